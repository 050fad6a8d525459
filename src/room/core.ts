/**
 * The room's rules: who may do what, and what each change writes. Every
 * method runs synchronously against the room's SQLite, so each change (its
 * log entry, its index and audit updates in the outbox) commits as one unit,
 * and no other request can interleave with it. That is also what settles the
 * deletion races: a send and a room deletion are ordered by the room, so a
 * message is either stored before the deletion (and deleted with it) or
 * refused with `room_deleted`, never stored after.
 */
import {
  type Attachment,
  DIRECT_ROOM_PREFIX,
  type ErrorBody,
  isWellFormedText,
  type Message,
  type Role,
  type RoomEvent,
  type RoomKind,
  fail,
  ok,
  type Result,
  type RoomSettings,
  type SendMessageBody,
} from "../protocol";
import type { RoomLimits } from "../kernel/config";
import { EventLog, toMessage } from "./event-log";
import { type HistoryRequest, type HistoryResult, readHistory } from "./history";
import { MediaRecords, toAttachment } from "./media";
import type { PrivacySettings } from "../protocol";
import { Members } from "./members";
import { Outbox, type OutboxEntry } from "./outbox";
import { TokenBuckets, rateLimitedError } from "../kernel/token-bucket";
import type { Clock } from "../kernel/clock";

export interface RoomMeta {
  kind: RoomKind;
  createdTs: number;
  createdBy: string;
  epoch: string;
  deletedTs: number | null;
  deletedBy: string | null;
  restorableUntil: number | null;
  /** The content of a deleted room was destroyed; only this tombstone remains. */
  purged: boolean;
  /** A legal hold: nothing of this room's content is destroyed while it is set. */
  held: boolean;
  /** Purged except what user holds keep. */
  partiallyPurged?: boolean;
  /** The room's own message retention in days; null or absent: the deployment default. */
  retentionDays?: number | null;
  /**
   * Everything up to this seq was trimmed by retention: messages are tombstones,
   * other events are gone. A resume from before it cannot be replayed.
   */
  trimmedThrough?: number;
}

/** Who is asking: a user, and whether their token makes them a deployment admin. */
export interface Actor {
  userId: string;
  admin?: boolean;
}

export interface Effects {
  /** A new event to deliver to every live socket. */
  publish(event: RoomEvent): void;
  /** The user is no longer a member: close their sockets. */
  revoke(userId: string): void;
  /** The room was deleted: close every socket. */
  closeAll(): void;
  /** The outbox has something to write to D1. */
  scheduleFlush(): void;
  /** Timed work (purges) is due at `at`. */
  scheduleAt(at: number): void;
}

const utf8 = new TextEncoder();
const DAY_MS = 24 * 60 * 60 * 1000;

export class RoomCore {
  readonly log: EventLog;
  readonly members: Members;
  readonly outbox: Outbox;
  readonly sendBuckets: TokenBuckets;
  readonly media: MediaRecords;
  #meta: RoomMeta | null;

  constructor(
    readonly sql: SqlStorage,
    readonly roomId: string,
    readonly limits: RoomLimits,
    readonly clock: Clock,
    private readonly effects: Effects,
  ) {
    this.log = new EventLog(sql, roomId, clock);
    this.members = new Members(sql);
    this.outbox = new Outbox(sql, clock);
    this.sendBuckets = new TokenBuckets({ perSecond: limits.sendPerSecond, burst: limits.sendBurst });
    this.media = new MediaRecords(sql);
    this.#meta = readMeta(sql);
  }

  get meta(): RoomMeta | null {
    return this.#meta;
  }

  get epoch(): string {
    return this.#meta?.epoch ?? "";
  }

  /** Fails unless the room exists and is not deleted. */
  requireRoom(): Result<RoomMeta> {
    if (!this.#meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    if (this.#meta.deletedTs !== null) return fail("room_deleted", `room ${this.roomId} was deleted`);
    return ok(this.#meta);
  }

  /** Fails unless the room exists, is not deleted, and the user is a member. */
  requireMember(userId: string): Result<Role> {
    const room = this.requireRoom();
    if (!room.ok) return room;
    const role = this.members.role(userId);
    if (role === null) return fail("not_member", `you are not a member of ${this.roomId}`);
    return ok(role);
  }

  create(userId: string, privacy?: PrivacySettings): Result<{ roomId: string; kind: RoomKind; role: Role }> {
    if (this.roomId.startsWith(DIRECT_ROOM_PREFIX)) {
      return fail("invalid_request", `room ids starting with "${DIRECT_ROOM_PREFIX}" are reserved for direct rooms`);
    }
    if (this.#meta?.deletedTs != null) return fail("room_deleted", `room ${this.roomId} was deleted; its id cannot be reused`);
    if (this.#meta) return fail("room_exists", `room ${this.roomId} already exists`);
    this.#initialise("group", userId);
    this.#addMember(userId, "owner", privacy);
    return ok({ roomId: this.roomId, kind: "group", role: "owner" });
  }

  /** Creates the direct room of two users on first use; either side gets the same room. */
  openDirect(userId: string, otherId: string, privacy?: Record<string, PrivacySettings>): Result<{ roomId: string; kind: "direct"; members: string[] }> {
    // A direct room's id is fixed per pair: once a deleted one is purged, the pair may start afresh
    // (a new epoch tells any old client position that it means nothing now).
    if (!this.#meta || (this.#meta.kind === "direct" && this.#meta.purged)) {
      this.#initialise("direct", userId);
      for (const id of [userId, otherId].sort()) this.#addMember(id, "member", privacy?.[id]);
    }
    const room = this.requireRoom();
    if (!room.ok) return room;
    if (room.value.kind !== "direct") return fail("forbidden", "not a direct room");
    const members = this.members.list().map((m) => m.user_id);
    if (!members.includes(userId)) return fail("forbidden", "this direct room belongs to other users");
    return ok({ roomId: this.roomId, kind: "direct", members: [...members].sort() });
  }

  join(userId: string, privacy?: PrivacySettings): Result<{ roomId: string; joined: boolean }> {
    const room = this.requireRoom();
    if (!room.ok) return room;
    if (this.members.has(userId)) return ok({ roomId: this.roomId, joined: false });
    if (room.value.kind === "direct") return fail("forbidden", "nobody else may join a direct room");
    if (this.sql.exec("SELECT 1 FROM bans WHERE user_id = ?", userId).toArray().length > 0) {
      return fail("forbidden", "you are banned from this room");
    }
    if (this.members.count() >= this.limits.maxMembers) return fail("forbidden", `this room is full (${this.limits.maxMembers} members)`);
    this.#addMember(userId, "member", privacy);
    return ok({ roomId: this.roomId, joined: true });
  }

  leave(userId: string): Result<{ roomId: string; left: boolean }> {
    const room = this.requireRoom();
    if (!room.ok) return room;
    if (!this.members.has(userId)) return ok({ roomId: this.roomId, left: false });
    if (room.value.kind === "direct") return fail("forbidden", "a direct room cannot be left; delete it instead");
    this.#removeMember(userId);
    return ok({ roomId: this.roomId, left: true });
  }

  /**
   * A send's checks in this room, without storing anything: membership, a
   * retry of a stored clientId (answered with the original), attachments,
   * content, and the user's send bucket here. With `admittedAt` (the log's
   * head when this send was admitted before an await) only what may have
   * changed since is checked again, and the bucket is not taken twice.
   */
  admitSend(
    userId: string,
    body: SendMessageBody,
    admittedAt?: number,
  ): Result<{ duplicate: Message } | { duplicate: null; attachments: Attachment[]; head: number }> {
    const member = this.requireMember(userId);
    if (!member.ok) return member;
    if (body.clientId !== undefined) {
      const earlier =
        admittedAt === undefined ? this.log.findByClientId(userId, body.clientId) : this.log.findByClientIdSince(userId, body.clientId, admittedAt);
      if (earlier) return ok({ duplicate: earlier });
    }
    const attachments = this.#checkAttachments(userId, body.attachments ?? []);
    if (!attachments.ok) return attachments;
    // The content cannot have changed since it was admitted; what it was checked against cannot either.
    const invalid = admittedAt === undefined ? this.#checkContent(body.content, attachments.value.length > 0) : null;
    if (invalid) return { ok: false, error: invalid };
    // After the dedupe: a retry of a stored message costs nothing. Once, on admission.
    if (admittedAt === undefined) {
      const verdict = this.sendBuckets.take(userId, this.clock.now());
      if (!verdict.allowed) {
        return {
          ok: false,
          error: rateLimitedError(`too many messages: at most ${this.limits.sendPerSecond} a second, bursts of ${this.limits.sendBurst}`, verdict),
        };
      }
    }
    return ok({ duplicate: null, attachments: attachments.value, head: this.log.head });
  }

  /**
   * Stores a message and publishes it. A repeated client id returns the
   * original message and stores nothing: the sender's retry after a lost ack.
   * `admittedAt`: admitSend already passed this send (and took it from the
   * room's bucket) when the log's head was there; what may have changed since
   * is checked again.
   */
  send(userId: string, body: SendMessageBody, options: { admittedAt?: number } = {}): Result<{ message: Message; duplicate: boolean }> {
    const admitted = this.admitSend(userId, body, options.admittedAt);
    if (!admitted.ok) return admitted;
    if (admitted.value.duplicate) return ok({ message: admitted.value.duplicate, duplicate: true });
    const { attachments } = admitted.value;
    const message = this.log.appendMessage(userId, body.content, body.clientId, attachments);
    if (attachments.length > 0) this.media.attach(attachments.map((a) => a.mediaId), message.seq);
    this.#touch(message.seq, Date.parse(message.ts), true);
    // Offline members are notified by push, in rooms up to the fan-out threshold (see inbox-delivery.ts).
    if (this.members.count() <= this.limits.largeRoomMembers) this.outbox.putLatest("push", { op: "push", roomId: this.roomId, seq: message.seq });
    this.effects.publish({ type: "message", seq: message.seq, ts: message.ts, message });
    return ok({ message, duplicate: false });
  }

  /** The sender may edit their own message; it keeps its id and seq and gains `editedTs`. */
  edit(actor: Actor, messageId: string, content: string): Result<Message> {
    const member = this.requireMember(actor.userId);
    if (!member.ok) return member;
    const row = this.log.findMessage(messageId);
    if (!row || row.deleted_ts !== null) return fail("message_not_found", "no such message in this room");
    if (row.actor !== actor.userId) return fail("forbidden", "only the sender may edit a message");
    const invalid = this.#checkContent(content, (toMessage(this.roomId, row).attachments?.length ?? 0) > 0);
    if (invalid) return { ok: false, error: invalid };
    const ts = this.log.now();
    this.#queuePurge(row.msg_id!, row.actor, row.content ?? "", "edited", ts);
    this.sql.exec("UPDATE events SET content = ?, edited_ts = ? WHERE seq = ?", content, ts, row.seq);
    const event = this.log.appendNotice("message_edited", actor.userId, { messageId, messageSeq: row.seq });
    this.#audit(actor.userId, "message_edited", messageId, null, ts);
    this.#touch(event.seq, ts, false);
    this.effects.publish(event);
    return ok(this.log.message(row.seq)!);
  }

  /**
   * The sender may delete their own message; owners and admins of the room,
   * and deployment admins, any. The row becomes a tombstone in its slot. A
   * second delete of the same message is answered with the tombstone.
   */
  deleteMessage(actor: Actor, messageId: string): Result<Message> {
    const role = this.requireMember(actor.userId);
    if (!role.ok && !(actor.admin && role.error.code === "not_member")) return role;
    const row = this.log.findMessage(messageId);
    if (!row) return fail("message_not_found", "no such message in this room");
    if (row.deleted_ts !== null) return ok(this.log.message(row.seq)!);
    const moderator = actor.admin === true || (role.ok && (role.value === "owner" || role.value === "admin"));
    if (row.actor !== actor.userId && !moderator) return fail("forbidden", "only the sender, owners and admins may delete a message");
    const ts = this.tombstone(row.seq, row.msg_id!, row.actor, row.content ?? "", actor.userId, "message_deleted");
    this.#audit(actor.userId, "message_deleted", messageId, row.actor === actor.userId ? null : `sender ${row.actor}`, ts);
    return ok(this.log.message(row.seq)!);
  }

  /** Turns a message into a tombstone and announces it. Used by deletion and erasure. */
  tombstone(seq: number, messageId: string, sender: string, content: string, deletedBy: string, reason: string): number {
    const ts = this.log.now();
    this.#queuePurge(messageId, sender, content, reason, ts);
    if (this.media.markMessageRemoved(seq) > 0) this.effects.scheduleAt(this.clock.now());
    // The row's data held only the attachments, which a tombstone does not show.
    this.sql.exec("UPDATE events SET content = NULL, data = NULL, deleted_ts = ?, deleted_by = ? WHERE seq = ?", ts, deletedBy, seq);
    const event = this.log.appendNotice("message_deleted", deletedBy, { messageId, messageSeq: seq, deletedTs: ts });
    this.#touch(event.seq, ts, false);
    this.effects.publish(event);
    return ts;
  }

  /**
   * Deletes the conversation for everyone: in a direct room either participant
   * may; in a group, owners, admins and deployment admins. Live sockets get the
   * event and are closed; offline members learn it from their sync log. The
   * content stays restorable for the undo window, then the alarm purges it.
   */
  deleteRoom(actor: Actor): Result<{ roomId: string; deleted: true; restorableUntil: string }> {
    const role = this.requireMember(actor.userId);
    if (!role.ok && !(actor.admin && role.error.code === "not_member")) return role;
    const meta = this.#meta!;
    const allowed = actor.admin === true || meta.kind === "direct" || (role.ok && (role.value === "owner" || role.value === "admin"));
    if (!allowed) return fail("forbidden", "only owners and admins may delete this room");
    const ts = this.log.now();
    const restorableUntil = ts + this.limits.undoWindowMs;
    const event = this.log.appendNotice("room_deleted", actor.userId, { restorableUntil });
    this.#setMeta({ deletedTs: ts, deletedBy: actor.userId, restorableUntil });
    this.outbox.put(`room_state:${event.seq}`, { op: "room_state", roomId: this.roomId, type: "room_deleted", seq: event.seq, ts });
    this.outbox.put(`inbox:state:${event.seq}`, { op: "inbox", roomId: this.roomId, kind: "deleted", seq: event.seq, userId: null });
    this.#audit(actor.userId, "room_deleted", null, null, ts);
    this.#touch(event.seq, ts, false);
    this.effects.publish(event);
    this.effects.closeAll();
    this.effects.scheduleAt(restorableUntil);
    return ok({ roomId: this.roomId, deleted: true, restorableUntil: new Date(restorableUntil).toISOString() });
  }

  /** Undoes a deletion inside the window: the deleter, owners, admins, deployment admins. */
  restoreRoom(actor: Actor): Result<{ roomId: string; restored: true }> {
    const meta = this.#meta;
    if (!meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    // Who may is decided first, so that nobody else learns anything from the answer.
    const role = this.members.get(actor.userId)?.role;
    const allowed = actor.admin === true || meta.deletedBy === actor.userId || role === "owner" || role === "admin";
    if (!allowed) return fail("forbidden", "only the deleter, owners and admins may restore this room");
    if (meta.deletedTs === null) return ok({ roomId: this.roomId, restored: true });
    if (meta.purged || (meta.restorableUntil ?? 0) <= this.clock.now()) {
      return fail("room_deleted", `room ${this.roomId} was deleted and can no longer be restored`);
    }
    const ts = this.log.now();
    this.#setMeta({ deletedTs: null, deletedBy: null, restorableUntil: null });
    const event = this.log.appendNotice("room_restored", actor.userId, {});
    this.outbox.put(`room_state:${event.seq}`, { op: "room_state", roomId: this.roomId, type: "room_restored", seq: event.seq, ts });
    this.outbox.put(`inbox:state:${event.seq}`, { op: "inbox", roomId: this.roomId, kind: "restored", seq: event.seq, userId: null });
    this.#audit(actor.userId, "room_restored", null, null, ts);
    this.#touch(event.seq, ts, false);
    this.effects.publish(event);
    return ok({ roomId: this.roomId, restored: true });
  }

  /**
   * Right to be forgotten: every message of the user here becomes a tombstone
   * (content kept out of reach only if a hold protects it) and the user is
   * removed from the room. Works on deleted rooms too.
   */
  eraseUser(adminId: string, userId: string): { messages: number } {
    if (!this.#meta) return { messages: 0 };
    const rows = this.sql
      .exec<{ seq: number; msg_id: string; content: string | null }>(
        "SELECT seq, msg_id, content FROM events WHERE type = 'message' AND actor = ? AND deleted_ts IS NULL",
        userId,
      )
      .toArray();
    for (const row of rows) this.tombstone(row.seq, row.msg_id, userId, row.content ?? "", adminId, "erased");
    if (this.members.has(userId)) this.#removeMember(userId, true);
    this.#audit(adminId, "user_erased", userId, `${rows.length} messages`, this.log.now());
    return { messages: rows.length };
  }

  /**
   * Moderation. Owners may act on anyone but themselves; room admins on plain
   * members; deployment admins on anyone. A kick removes the user (they may
   * join again); a ban also keeps them out. Either closes their sockets at once.
   */
  moderate(actor: Actor, userId: string, action: "kick" | "ban" | "unban"): Result<{ roomId: string; userId: string; action: "kicked" | "banned" | "unbanned" }> {
    const allowed = this.#mayModerate(actor, userId);
    if (!allowed.ok) return allowed;
    const ts = this.log.now();
    if (action === "unban") {
      this.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
      this.#audit(actor.userId, "user_unbanned", userId, null, ts);
      return ok({ roomId: this.roomId, userId, action: "unbanned" });
    }
    if (action === "ban") {
      this.sql.exec(
        "INSERT INTO bans (user_id, banned_by, banned_ts) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
        userId,
        actor.userId,
        ts,
      );
    }
    if (this.members.has(userId)) this.#removeMember(userId);
    this.#audit(actor.userId, action === "ban" ? "user_banned" : "user_kicked", userId, null, ts);
    return ok({ roomId: this.roomId, userId, action: action === "ban" ? "banned" : "kicked" });
  }

  /** Owners (and deployment admins) make members admins or plain members again. */
  setRole(actor: Actor, userId: string, role: "admin" | "member"): Result<{ roomId: string; userId: string; action: "role_changed"; role: Role }> {
    const mine = this.requireMember(actor.userId);
    if (!mine.ok && !(actor.admin && mine.error.code === "not_member")) return mine;
    if (!actor.admin && !(mine.ok && mine.value === "owner")) return fail("forbidden", "only owners may change roles");
    const target = this.members.get(userId);
    if (!target) return fail("not_member", `${userId} is not a member of ${this.roomId}`);
    if (target.role === "owner") return fail("forbidden", "the owner's role cannot be changed");
    this.members.setRole(userId, role);
    this.outbox.put(`member:${userId}`, { op: "member", roomId: this.roomId, userId, role, joinedTs: target.joined_ts, seq: this.log.head });
    this.#audit(actor.userId, "role_changed", userId, role, this.log.now());
    this.effects.scheduleFlush();
    return ok({ roomId: this.roomId, userId, action: "role_changed", role });
  }

  #mayModerate(actor: Actor, userId: string): Result<true> {
    const mine = this.requireMember(actor.userId);
    if (!mine.ok && !(actor.admin && mine.error.code === "not_member")) return mine;
    if (this.#meta?.kind === "direct") return fail("forbidden", "direct rooms have no moderators");
    if (userId === actor.userId) return fail("invalid_request", "you cannot moderate yourself; leave the room instead");
    if (actor.admin) return ok(true);
    const role = mine.ok ? mine.value : "member";
    const target = (this.members.get(userId)?.role as Role | undefined) ?? "member";
    if (role === "owner" || (role === "admin" && target === "member")) return ok(true);
    return fail("forbidden", "only owners and admins may moderate, and admins only plain members");
  }

  setHold(adminId: string, held: boolean): void {
    if (!this.#meta) return;
    // The hold itself is audited where it is recorded (D1, with its id); the room only obeys it.
    void adminId;
    this.#setMeta({ held });
    if (!held) this.effects.scheduleAt(this.clock.now());
  }

  history(userId: string, req: HistoryRequest): Result<HistoryResult & { headSeq: number; epoch: string }> {
    const member = this.requireMember(userId);
    if (!member.ok) return member;
    const page = readHistory(this.sql, this.log, this.roomId, req);
    if (!page.ok) return page;
    return ok({ ...page.value, headSeq: this.log.head, epoch: this.epoch });
  }

  /**
   * Destroys what no hold protects: queued content of deleted and edited
   * messages, and, once the undo window has passed, a deleted room's whole
   * content. `heldUsers` are users under a legal hold (from D1).
   */
  purge(now: number, heldUsers: ReadonlySet<string>): { destroyed: number; roomPurged: boolean; next: number | null } {
    const meta = this.#meta;
    if (!meta || meta.held) return { destroyed: 0, roomPurged: false, next: null };
    let destroyed = this.media.releaseRemoved(heldUsers);
    const queued = this.sql.exec<{ id: number; sender: string }>("SELECT id, sender FROM purge_queue").toArray();
    for (const row of queued) {
      if (heldUsers.has(row.sender)) continue;
      this.sql.exec("DELETE FROM purge_queue WHERE id = ?", row.id);
      destroyed++;
    }
    let roomPurged = false;
    if (meta.deletedTs !== null && !meta.purged && meta.restorableUntil !== null) {
      if (meta.restorableUntil > now) return { destroyed, roomPurged, next: meta.restorableUntil };
      // Messages of held users stay (out of reach, the room answers room_deleted); the rest goes.
      const held = [...heldUsers];
      const keep = held.length ? ` AND actor NOT IN (${held.map(() => "?").join(",")})` : "";
      this.sql.exec(`DELETE FROM events WHERE type = 'message'${keep}`, ...held);
      this.sql.exec(`DELETE FROM events WHERE type <> 'message'`);
      this.sql.exec("DELETE FROM tickets");
      this.media.releaseRemoved(heldUsers, true);
      if (held.length === 0) {
        this.members.removeAll();
        this.#setMeta({ purged: true });
        roomPurged = true;
      }
      // Audited once per outcome: a partial purge (held users' content kept) and the final one.
      if (roomPurged || !meta.partiallyPurged) {
        const detail = roomPurged ? (meta.partiallyPurged ? "held content destroyed" : null) : "held users' content retained";
        this.#audit("system", "room_purged", null, detail, now);
        if (!roomPurged) this.#setMeta({ partiallyPurged: true });
        this.effects.scheduleFlush();
      }
    }
    const remaining = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM purge_queue").one().n;
    return { destroyed, roomPurged, next: remaining > 0 || (meta.deletedTs !== null && !meta.purged) ? now + this.limits.holdRecheckMs : null };
  }

  // ---- Retention --------------------------------------------------------------

  /** Days that apply here (the room's own, else the deployment default), or null: forever. */
  get retentionDays(): number | null {
    return this.#meta?.retentionDays ?? this.limits.defaultRetentionDays;
  }

  /** Events up to this seq were trimmed; resumes from before it get `too_far_behind`. */
  get trimmedThrough(): number {
    return this.#meta?.trimmedThrough ?? 0;
  }

  settings(userId: string): Result<RoomSettings> {
    const member = this.requireMember(userId);
    if (!member.ok) return member;
    return ok(this.#settings());
  }

  /** Owners and admins of the room, and deployment admins, set its retention. */
  setRetention(actor: Actor, days: number | null): Result<RoomSettings> {
    const role = this.requireMember(actor.userId);
    if (!role.ok && !(actor.admin && role.error.code === "not_member")) return role;
    if (!actor.admin && !(role.ok && (role.value === "owner" || role.value === "admin"))) {
      return fail("forbidden", "only owners and admins may change the room's retention");
    }
    const ts = this.log.now();
    this.#setMeta({ retentionDays: days });
    this.#audit(actor.userId, "retention_changed", null, days === null ? "default" : `${days} days`, ts);
    this.effects.scheduleFlush();
    // A shorter retention may already have something to trim.
    this.effects.scheduleAt(this.clock.now());
    return ok(this.#settings());
  }

  #settings(): RoomSettings {
    return { roomId: this.roomId, retentionDays: this.#meta?.retentionDays ?? null, effectiveRetentionDays: this.retentionDays };
  }

  /**
   * Trims up to `batch` events older than the retention: messages become
   * tombstones (`expired`, no content, no attachments; their slot, id, sender
   * and time stay, so history and unread counts keep their shape), every other
   * event below the trim point is dropped. Content goes through the purge
   * queue, so a legal hold on the sender keeps it out of reach rather than
   * destroyed; a held room is not trimmed at all. The head event is never
   * dropped: the next seq is derived from it. Returns how many messages were
   * trimmed and when to look again (soon if a batch was full, else when the
   * oldest remaining event expires).
   */
  trimExpired(now: number, batch: number): { trimmed: number; next: number | null } {
    const meta = this.#meta;
    const days = this.retentionDays;
    if (!meta || meta.held || meta.deletedTs !== null || days === null) return { trimmed: 0, next: null };
    const retentionMs = days * DAY_MS;
    const cutoff = now - retentionMs;
    const from = this.trimmedThrough;
    const head = this.log.head;
    // ts never decreases with seq: the first event at or after the cutoff bounds the range (events_ts, O(log n)).
    const firstKept = this.sql.exec<{ seq: number }>("SELECT seq FROM events WHERE ts >= ? ORDER BY ts, seq LIMIT 1", cutoff).toArray()[0]?.seq ?? head + 1;
    const below = Math.min(firstKept, head);
    const seqs = this.sql.exec<{ seq: number }>("SELECT seq FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?", from, below, batch).toArray();
    let trimmed = 0;
    if (seqs.length > 0) {
      const last = seqs[seqs.length - 1]!.seq;
      const range = "seq > ? AND seq <= ?";
      this.sql.exec(
        `INSERT INTO purge_queue (msg_id, sender, content, reason, queued_ts)
         SELECT msg_id, actor, content, 'expired', ? FROM events
         WHERE ${range} AND type = 'message' AND deleted_ts IS NULL AND content IS NOT NULL AND content <> ''`,
        now,
        from,
        last,
      );
      const withMedia = this.sql
        .exec<{ seq: number }>(`SELECT seq FROM events WHERE ${range} AND type = 'message' AND deleted_ts IS NULL AND data IS NOT NULL`, from, last)
        .toArray();
      for (const row of withMedia) this.media.markMessageRemoved(row.seq);
      trimmed = this.sql
        .exec<{ n: number }>(`SELECT count(*) AS n FROM events WHERE ${range} AND type = 'message' AND deleted_ts IS NULL`, from, last)
        .one().n;
      this.sql.exec(
        `UPDATE events SET content = NULL, data = NULL, deleted_ts = ?, deleted_by = NULL WHERE ${range} AND type = 'message' AND deleted_ts IS NULL`,
        now,
        from,
        last,
      );
      this.sql.exec(`DELETE FROM events WHERE ${range} AND type <> 'message'`, from, last);
      this.#setMeta({ trimmedThrough: last });
      // The purge queue and removed media are emptied by the alarm.
      this.effects.scheduleAt(this.clock.now());
      if (seqs.length === batch) return { trimmed, next: now + 1_000 };
    }
    // The oldest event that may still expire (never the head, which is never trimmed).
    const oldest = this.sql
      .exec<{ ts: number }>("SELECT ts FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT 1", this.trimmedThrough, head)
      .toArray()[0];
    return { trimmed, next: oldest ? Math.max(now + 1_000, oldest.ts + retentionMs + 1) : null };
  }

  #queuePurge(messageId: string, sender: string, content: string, reason: string, ts: number): void {
    if (!content) return;
    this.sql.exec(
      "INSERT INTO purge_queue (msg_id, sender, content, reason, queued_ts) VALUES (?, ?, ?, ?, ?)",
      messageId,
      sender,
      content,
      reason,
      ts,
    );
    this.effects.scheduleAt(this.clock.now());
  }

  /** Each id must be a finished upload of this sender in this room, not yet on a message. */
  #checkAttachments(userId: string, mediaIds: string[]): Result<Attachment[]> {
    if (new Set(mediaIds).size !== mediaIds.length) return fail("invalid_request", "an attachment is listed twice");
    const attachments: Attachment[] = [];
    for (const mediaId of mediaIds) {
      const row = this.media.get(mediaId);
      if (!row || row.uploader !== userId || row.state !== "pending") {
        return fail("invalid_request", `attachment ${mediaId} is not a finished upload of yours in this room, or is already attached`);
      }
      attachments.push(toAttachment(row));
    }
    return ok(attachments);
  }

  #checkContent(content: string, hasAttachments: boolean): ErrorBody | null {
    if (content.length === 0 && !hasAttachments) return { code: "invalid_request", message: "content must not be empty" };
    if (!isWellFormedText(content)) return { code: "invalid_request", message: "content is not valid Unicode (lone surrogate)" };
    // A UTF-16 length already over the limit is over it in UTF-8 too: skip the encode.
    if (content.length > this.limits.maxMessageBytes || utf8.encode(content).byteLength > this.limits.maxMessageBytes) {
      return { code: "content_too_large", message: `content is larger than ${this.limits.maxMessageBytes} bytes` };
    }
    return null;
  }

  #initialise(kind: RoomKind, createdBy: string): void {
    this.#meta = null;
    this.#setMeta({
      kind,
      createdBy,
      createdTs: this.clock.now(),
      epoch: crypto.randomUUID(),
      deletedTs: null,
      deletedBy: null,
      restorableUntil: null,
      purged: false,
      held: false,
    });
  }

  #setMeta(patch: Partial<RoomMeta>): void {
    for (const [key, value] of Object.entries(patch)) {
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        JSON.stringify(value),
      );
    }
    this.#meta = { ...(this.#meta ?? ({} as RoomMeta)), ...patch };
  }

  #addMember(userId: string, role: Role, privacy?: PrivacySettings): void {
    const event = this.log.appendMembership("member_joined", userId, role);
    const ts = Date.parse(event.ts);
    this.members.add(userId, role, ts, event.seq, privacy);
    this.outbox.put(`member:${userId}`, { op: "member", roomId: this.roomId, userId, role, joinedTs: ts, seq: event.seq });
    this.outbox.put(`inbox:member:${userId}`, { op: "inbox", roomId: this.roomId, kind: "joined", seq: event.seq, userId });
    this.#touch(event.seq, ts, false);
    this.effects.publish(event);
  }

  /** `silent`: an erasure, which must not leave a sync-log row behind for the erased user. */
  #removeMember(userId: string, silent = false): void {
    this.members.remove(userId);
    const event = this.log.appendMembership("member_left", userId);
    const ts = Date.parse(event.ts);
    this.outbox.put(`member:${userId}`, { op: "member_removed", roomId: this.roomId, userId, seq: event.seq, ts, silent });
    this.outbox.put(`inbox:member:${userId}`, { op: "inbox", roomId: this.roomId, kind: "left", seq: event.seq, userId });
    this.#touch(event.seq, ts, false);
    this.effects.revoke(userId);
    this.effects.publish(event);
  }

  #audit(actor: string, action: string, target: string | null, detail: string | null, ts: number): void {
    const id = crypto.randomUUID();
    this.outbox.put(`audit:${id}`, { op: "audit", id, ts, actor, action, roomId: this.roomId, target, detail });
  }

  /**
   * What a `putLatest` outbox row says when it is flushed: the room as it is
   * now (committed state), never older than what the row already said.
   */
  latestOutboxEntry(entry: OutboxEntry): OutboxEntry {
    const meta = this.#meta;
    if (!meta) return entry;
    const lastEvent = () => this.sql.exec<{ seq: number; ts: number }>("SELECT seq, ts FROM events ORDER BY seq DESC LIMIT 1").toArray()[0];
    const lastMessage = () =>
      this.sql.exec<{ seq: number; ts: number }>("SELECT seq, ts FROM events WHERE type = 'message' ORDER BY seq DESC LIMIT 1").toArray()[0];
    switch (entry.op) {
      case "room": {
        const last = lastEvent();
        return {
          ...entry,
          kind: meta.kind,
          createdTs: meta.createdTs,
          deletedTs: meta.deletedTs,
          lastSeq: Math.max(entry.lastSeq, last?.seq ?? 0),
          lastActivityTs: Math.max(entry.lastActivityTs, last?.ts ?? 0),
        };
      }
      case "activity":
        return { ...entry, ts: Math.max(entry.ts, lastMessage()?.ts ?? 0) };
      case "push":
        return { ...entry, seq: Math.max(entry.seq, lastMessage()?.seq ?? 0) };
      case "inbox":
        return entry.kind === "activity" && entry.userId === null ? { ...entry, seq: Math.max(entry.seq, lastEvent()?.seq ?? 0) } : entry;
      default:
        return entry;
    }
  }

  /**
   * Records activity for the index: one outbox row per room, however many
   * messages. New messages also go to members' sync logs, but only in rooms up
   * to the large-room threshold: above it, one message would mean thousands of
   * D1 rows, and members learn of activity on read (listRooms) instead.
   */
  #touch(seq: number, ts: number, isMessage: boolean): void {
    const meta = this.#meta!;
    this.outbox.putLatest("room", {
      op: "room",
      roomId: this.roomId,
      kind: meta.kind,
      createdTs: meta.createdTs,
      lastActivityTs: ts,
      lastSeq: seq,
      deletedTs: meta.deletedTs,
    });
    const small = this.members.count() <= this.limits.largeRoomMembers;
    if (isMessage && small) {
      this.outbox.putLatest("activity", { op: "activity", roomId: this.roomId, ts });
    }
    // Members' inboxes hear of every change (unread counts move on deletions too), in
    // small rooms only; one row, however many changes, delivered by the alarm.
    if (small) this.outbox.putLatest("inbox:activity", { op: "inbox", roomId: this.roomId, kind: "activity", seq, userId: null });
    this.effects.scheduleFlush();
  }
}

function readMeta(sql: SqlStorage): RoomMeta | null {
  const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
  const map = new Map(rows.map((r) => [r.key, parseStored(r.value)]));
  // The room exists once it has a kind (other keys, such as its id, may be written earlier).
  if (!map.has("kind")) return null;
  return {
    kind: map.get("kind") === "direct" ? "direct" : "group",
    createdBy: String(map.get("createdBy") ?? ""),
    createdTs: Number(map.get("createdTs") ?? 0),
    epoch: String(map.get("epoch") ?? ""),
    deletedTs: (map.get("deletedTs") as number | null | undefined) ?? null,
    deletedBy: (map.get("deletedBy") as string | null | undefined) ?? null,
    restorableUntil: (map.get("restorableUntil") as number | null | undefined) ?? null,
    purged: map.get("purged") === true,
    held: map.get("held") === true,
    partiallyPurged: map.get("partiallyPurged") === true,
    retentionDays: (map.get("retentionDays") as number | null | undefined) ?? null,
    trimmedThrough: Number(map.get("trimmedThrough") ?? 0),
  };
}

/** Values are JSON; rooms created before meta was JSON stored plain strings. */
function parseStored(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
