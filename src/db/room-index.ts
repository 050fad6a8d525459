/** Reads of the D1 user-to-room index. Writes come only from room outboxes. */
import type { RoomSummary } from "../protocol";

interface Row {
  room_id: string;
  kind: string;
  role: string;
  joined_ts: number;
  last_activity_ts: number;
  last_seq: number;
}

/** The user's rooms, most recent activity first. */
export async function listRooms(db: D1Database, userId: string): Promise<RoomSummary[]> {
  const { results } = await db
    .prepare(
      `SELECT m.room_id, r.kind, m.role, m.joined_ts, r.last_activity_ts, r.last_seq
       FROM memberships m JOIN rooms r ON r.room_id = m.room_id
       WHERE m.user_id = ? AND r.deleted_ts IS NULL
       ORDER BY r.last_activity_ts DESC, m.room_id`,
    )
    .bind(userId)
    .all<Row>();
  return results.map((row) => ({
    roomId: row.room_id,
    kind: row.kind === "direct" ? "direct" : "group",
    role: row.role === "owner" || row.role === "admin" ? row.role : "member",
    joinedTs: new Date(row.joined_ts).toISOString(),
    lastActivityTs: new Date(row.last_activity_ts).toISOString(),
    lastSeq: row.last_seq,
  }));
}
