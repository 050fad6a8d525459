/**
 * Messages: a send's admission and its commit, edits and deletions. A send is
 * admitted (every check of the room, and a token from the user's bucket
 * here) before the await on the user's cross-room bucket (sending.ts), and
 * committed after it, checking again only what may have changed meanwhile.
 * Both are synchronous against the room's SQLite: a message is stored, its
 * attachments claimed and its index rows recorded as one unit.
 */
import { type Attachment, type Message, type Result, type SendMessageBody, fail, ok } from "../protocol";
import { rateLimitedError } from "../kernel/token-bucket";
import { toMessage } from "./event-rows";
import { toAttachment } from "./media";
import { type Actor, checkContent, mayDeleteMessage, mayEdit, memberOrAdmin } from "./policy";
import type { RoomState } from "./state";

/** A send that passed admission: a retry of a stored message (answered with it), or one to commit. */
export type Admission = { duplicate: Message } | { duplicate: null; head: number };

export type Sent = { message: Message; duplicate: boolean };

/**
 * A send's checks, without storing anything: membership, a retry of a stored
 * clientId (answered with the original), attachments, content, and the
 * user's send bucket here (after the dedupe: a retry costs nothing). `head`:
 * the log's head now, from which the commit checks what changed.
 */
export function admitSend(state: RoomState, userId: string, body: SendMessageBody): Result<Admission> {
  const member = state.requireMember(userId);
  if (!member.ok) return member;
  if (body.clientId !== undefined) {
    const earlier = state.log.findByClientId(userId, body.clientId);
    if (earlier) return ok({ duplicate: earlier });
  }
  const attachments = checkAttachments(state, userId, body.attachments ?? []);
  if (!attachments.ok) return attachments;
  const invalid = checkContent(body.content, attachments.value.length > 0, state.limits.maxMessageBytes);
  if (invalid) return { ok: false, error: invalid };
  const verdict = state.sendBuckets.take(userId, state.clock.now());
  if (!verdict.allowed) {
    const { sendPerSecond, sendBurst } = state.limits;
    return { ok: false, error: rateLimitedError(`too many messages: at most ${sendPerSecond} a second, bursts of ${sendBurst}`, verdict) };
  }
  return ok({ duplicate: null, head: state.log.head });
}

/**
 * Stores an admitted send and publishes it. What may have changed since its
 * admission at `admittedAt` (the log's head then) is checked again: the
 * membership and the room's state, a message stored with the same clientId
 * meanwhile (answered with that one, from memory), and the attachments. Its
 * content cannot have changed, nor what it was checked against.
 */
export function commitSend(state: RoomState, userId: string, body: SendMessageBody, admittedAt: number): Result<Sent> {
  const member = state.requireMember(userId);
  if (!member.ok) return member;
  if (body.clientId !== undefined) {
    const earlier = state.log.findByClientIdSince(userId, body.clientId, admittedAt);
    if (earlier) return ok({ message: earlier, duplicate: true });
  }
  const attachments = checkAttachments(state, userId, body.attachments ?? []);
  if (!attachments.ok) return attachments;
  const message = state.log.appendMessage(userId, body.content, body.clientId, attachments.value);
  if (attachments.value.length > 0) state.media.attach(attachments.value.map((a) => a.mediaId), message.seq);
  state.index.touch(message.seq, Date.parse(message.ts), true);
  state.index.pushFor(message.seq);
  state.feed.publish({ type: "message", seq: message.seq, ts: message.ts, message });
  return ok({ message, duplicate: false });
}

/**
 * The sender may edit their own message; it keeps its id and seq and gains
 * `editedTs`. An edit to the content it already has is answered with the
 * message as it is, and stores and broadcasts nothing.
 */
export function editMessage(state: RoomState, actor: Actor, messageId: string, content: string): Result<Message> {
  const member = state.requireMember(actor.userId);
  if (!member.ok) return member;
  const row = state.log.findMessage(messageId);
  if (!row || row.deleted_ts !== null) return fail("message_not_found", "no such message in this room");
  const refused = mayEdit(actor, row.actor) ?? checkContent(content, (toMessage(state.roomId, row).attachments?.length ?? 0) > 0, state.limits.maxMessageBytes);
  if (refused) return { ok: false, error: refused };
  // The same content again changes nothing: nothing to store, index or announce.
  if (content === row.content) return ok(state.log.message(row.seq)!);
  const ts = state.log.now();
  state.queuePurge({ messageId: row.msg_id!, sender: row.actor, content: row.content ?? "" }, "edited", ts);
  state.log.rewrite(row.seq, content, ts);
  const event = state.log.appendNotice("message_edited", actor.userId, { messageId, messageSeq: row.seq });
  state.index.audit(actor.userId, "message_edited", messageId, null, ts);
  state.index.touch(event.seq, ts, false);
  state.feed.publish(event);
  return ok(state.log.message(row.seq)!);
}

/**
 * The sender may delete their own message; owners and admins of the room,
 * and deployment admins, any. The row becomes a tombstone in its slot. A
 * second delete of the same message is answered with the tombstone.
 * `newly`: whether this call deleted it (metrics and the deletion log).
 */
export function deleteMessage(state: RoomState, actor: Actor, messageId: string): Result<{ message: Message; newly: boolean }> {
  const role = memberOrAdmin(actor, state.requireMember(actor.userId));
  if (!role.ok) return role;
  const row = state.log.findMessage(messageId);
  if (!row) return fail("message_not_found", "no such message in this room");
  if (row.deleted_ts !== null) return ok({ message: state.log.message(row.seq)!, newly: false });
  const refused = mayDeleteMessage(actor, role.value, row.actor);
  if (refused) return { ok: false, error: refused };
  const ts = tombstone(state, { seq: row.seq, messageId: row.msg_id!, sender: row.actor, content: row.content ?? "" }, actor.userId, "message_deleted");
  state.index.audit(actor.userId, "message_deleted", messageId, row.actor === actor.userId ? null : `sender ${row.actor}`, ts);
  return ok({ message: state.log.message(row.seq)!, newly: true });
}

/** Turns a message into a tombstone and announces it (deletion and erasure). Returns its deletion time. */
export function tombstone(
  state: RoomState,
  message: { seq: number; messageId: string; sender: string; content: string },
  deletedBy: string,
  reason: string,
): number {
  const ts = state.log.now();
  state.queuePurge(message, reason, ts);
  if (state.media.markMessageRemoved(message.seq) > 0) state.wake.at(state.clock.now());
  state.log.tombstone(message.seq, ts, deletedBy);
  const event = state.log.appendNotice("message_deleted", deletedBy, { messageId: message.messageId, messageSeq: message.seq, deletedTs: ts });
  state.index.touch(event.seq, ts, false);
  state.feed.publish(event);
  return ts;
}

/** Each id must be a finished upload of this sender in this room, not yet on a message. */
function checkAttachments(state: RoomState, userId: string, mediaIds: string[]): Result<Attachment[]> {
  if (new Set(mediaIds).size !== mediaIds.length) return fail("invalid_request", "an attachment is listed twice");
  const attachments: Attachment[] = [];
  for (const mediaId of mediaIds) {
    const row = state.media.get(mediaId);
    if (!row || row.uploader !== userId || row.state !== "pending") {
      return fail("invalid_request", `attachment ${mediaId} is not a finished upload of yours in this room, or is already attached`);
    }
    attachments.push(toAttachment(row));
  }
  return ok(attachments);
}
