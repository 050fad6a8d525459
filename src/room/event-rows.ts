/**
 * How a row of the room's `events` table reads as the protocol's message and
 * event shapes. No SQL: the table is EventLog's (event-log.ts); these are the
 * codecs it and its readers share.
 */
import type { Attachment, Message, Role, RoomEvent } from "../protocol";

export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  ts: number;
  actor: string;
  msg_id: string | null;
  content: string | null;
  client_id: string | null;
  data: string | null;
  edited_ts: number | null;
  deleted_ts: number | null;
  deleted_by: string | null;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Ids sort by creation time and are unique without coordination. */
export function newMessageId(ts: number): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  let suffix = "";
  for (const byte of random) suffix += byte.toString(16).padStart(2, "0");
  return `m_${ts.toString(36).padStart(9, "0")}${suffix}`;
}

/** An edit event whose message row was purged with its room: show it as deleted. */
function tombstoneFor(roomId: string, data: Record<string, unknown>): Message {
  return { id: String(data.messageId), roomId, seq: Number(data.messageSeq), sender: "deleted", content: "", ts: iso(0), deleted: true };
}

export function toMessage(roomId: string, row: EventRow): Message {
  const message: Message = {
    id: row.msg_id ?? "",
    roomId,
    seq: row.seq,
    sender: row.actor,
    content: row.content ?? "",
    ts: iso(row.ts),
  };
  if (row.client_id !== null) message.clientId = row.client_id;
  if (row.deleted_ts !== null) {
    // A tombstone: no content and no attachments (their files are deleted with it).
    message.content = "";
    message.deleted = true;
    // No deleter: trimmed by the room's retention, not deleted by anyone.
    if (row.deleted_by === null) message.expired = true;
    else message.deletedBy = row.deleted_by;
    message.deletedTs = iso(row.deleted_ts);
    return message;
  }
  if (row.edited_ts !== null) message.editedTs = iso(row.edited_ts);
  if (row.data !== null) {
    const data = JSON.parse(row.data) as { attachments?: Attachment[] };
    if (data.attachments?.length) message.attachments = data.attachments;
  }
  return message;
}

/** `messageOf`: the message row an edit event points at, read as it is now. */
export function toEvent(roomId: string, row: EventRow, messageOf: (seq: number) => Message | null): RoomEvent {
  const ts = iso(row.ts);
  const data = (row.data ? JSON.parse(row.data) : {}) as Record<string, unknown>;
  switch (row.type) {
    case "message":
      return { type: "message", seq: row.seq, ts, message: toMessage(roomId, row) };
    case "member_joined":
      return { type: "member_joined", seq: row.seq, ts, userId: row.actor, role: (data.role as Role | undefined) ?? "member" };
    case "member_left":
      return { type: "member_left", seq: row.seq, ts, userId: row.actor };
    case "message_edited": {
      const message = messageOf(Number(data.messageSeq)) ?? tombstoneFor(roomId, data);
      return { type: "message_edited", seq: row.seq, ts, message };
    }
    case "message_deleted":
      return {
        type: "message_deleted",
        seq: row.seq,
        ts,
        messageId: String(data.messageId),
        messageSeq: Number(data.messageSeq),
        deletedBy: row.actor,
        deletedTs: typeof data.deletedTs === "number" ? iso(data.deletedTs) : ts,
      };
    case "room_deleted":
      return { type: "room_deleted", seq: row.seq, ts, deletedBy: row.actor, restorableUntil: iso(Number(data.restorableUntil)) };
    case "room_restored":
      return { type: "room_restored", seq: row.seq, ts, restoredBy: row.actor };
    default:
      throw new Error(`unknown event type in log: ${row.type}`);
  }
}
