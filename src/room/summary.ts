/**
 * What one member's room list shows about this room: how many messages they
 * have not read, the last message (a short preview, or a tombstone), and when
 * the room last changed. The room computes it from its own SQLite, so it is
 * right the moment a read or a deletion is stored, where the D1 index could
 * lag by seconds.
 *
 * Unread = messages after the member's read position (stored `read_seq`, or a
 * newer position still waiting in memory for the receipt batch) that are not
 * deleted and were not sent by the member. `seq` is the events table's rowid,
 * so `seq > read_seq` walks the b-tree from the read position: the cost grows
 * with the unread messages, never with the history, and the count stops at
 * UNREAD_CAP (clients show "999+").
 */
import type { LastMessage, RoomSummaryForUser } from "../protocol";
import type { Members } from "./members";

export const UNREAD_CAP = 999;
export const PREVIEW_CHARS = 100;

interface LastRow extends Record<string, SqlStorageValue> {
  seq: number;
  msg_id: string;
  actor: string;
  content: string | null;
  ts: number;
  deleted_ts: number | null;
}

/** The first PREVIEW_CHARS characters, never splitting a surrogate pair. */
export function preview(content: string): string {
  const chars = Array.from(content);
  return chars.length <= PREVIEW_CHARS ? content : `${chars.slice(0, PREVIEW_CHARS).join("")}…`;
}

export function lastMessageOf(sql: SqlStorage): LastMessage | null {
  const row = sql
    .exec<LastRow>("SELECT seq, msg_id, actor, content, ts, deleted_ts FROM events WHERE type = 'message' ORDER BY seq DESC LIMIT 1")
    .toArray()[0];
  if (!row) return null;
  const ts = new Date(row.ts).toISOString();
  if (row.deleted_ts !== null) return { id: row.msg_id, seq: row.seq, sender: row.actor, deleted: true, ts };
  return { id: row.msg_id, seq: row.seq, sender: row.actor, preview: preview(row.content ?? ""), ts };
}

export function unreadCount(sql: SqlStorage, userId: string, readSeq: number): number {
  return sql
    .exec<{ n: number }>(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM events WHERE seq > ? AND type = 'message' AND deleted_ts IS NULL AND actor <> ? LIMIT ?
       )`,
      readSeq,
      userId,
      UNREAD_CAP,
    )
    .one().n;
}

export function summarise(
  sql: SqlStorage,
  roomId: string,
  members: Members,
  pendingRead: (userId: string) => number,
  userId: string,
): RoomSummaryForUser | null {
  const member = members.get(userId);
  if (!member) return null;
  const readSeq = Math.max(member.read_seq, pendingRead(userId));
  const head = sql.exec<{ seq: number | null; ts: number | null }>("SELECT seq, ts FROM events ORDER BY seq DESC LIMIT 1").toArray()[0];
  return {
    roomId,
    seq: head?.seq ?? 0,
    readSeq,
    unreadCount: unreadCount(sql, userId, readSeq),
    lastMessage: lastMessageOf(sql),
    lastActivityTs: new Date(head?.ts ?? 0).toISOString(),
  };
}
