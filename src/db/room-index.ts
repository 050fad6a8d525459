/** Reads of the D1 user-to-room index (rooms, memberships, participation). Writes come only from room outboxes. */
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

/**
 * Every room the user ever joined (current or left), per the index: what
 * erasure and hold releases must reach.
 */
export async function roomsEverJoined(db: D1Database, userId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT room_id FROM participation WHERE user_id = ? UNION SELECT room_id FROM memberships WHERE user_id = ?")
    .bind(userId, userId)
    .all<{ room_id: string }>();
  return results.map((r) => r.room_id);
}

/** Rooms the user is a member of, per the index. */
export async function roomsOfUser(db: D1Database, userId: string): Promise<string[]> {
  const { results } = await db.prepare("SELECT room_id FROM memberships WHERE user_id = ?").bind(userId).all<{ room_id: string }>();
  return results.map((r) => r.room_id);
}

/** The most recently active rooms, newest first (whose figures the stats endpoint asks for). */
export async function recentlyActiveRooms(db: D1Database, limit: number): Promise<string[]> {
  const { results } = await db.prepare("SELECT room_id FROM rooms ORDER BY last_activity_ts DESC LIMIT ?").bind(limit).all<{ room_id: string }>();
  return results.map((r) => r.room_id);
}
