/**
 * The D1 writes of a room's outbox (src/room/outbox.ts): the room index
 * (`rooms`, `memberships`, `participation`), members' sync logs (`sync_log`)
 * and the audit log. Every statement is idempotent, so a flush that is
 * retried after a partial failure writes nothing twice; each carries the
 * room's seq, so an older write never overwrites a newer one.
 */
import type { Role, RoomKind } from "../protocol";

/** An active legal hold on the user bound last (`?`): SQL shared with eraseAccount (compliance.ts). */
export const USER_HELD = "EXISTS (SELECT 1 FROM legal_holds WHERE kind = 'user' AND target = ? AND released_ts IS NULL)";

/** One change for D1, as a room's outbox row holds it. */
export type IndexWrite =
  | {
      op: "room";
      roomId: string;
      kind: RoomKind;
      createdTs: number;
      lastActivityTs: number;
      lastSeq: number;
      deletedTs: number | null;
    }
  | { op: "member"; roomId: string; userId: string; role: Role; joinedTs: number; seq: number }
  /** `erased`: the user was erased (src/room/outbox.ts forgetUser); their index rows for the room go and none comes back. */
  | { op: "member_removed"; roomId: string; userId: string; seq: number; ts: number; silent?: boolean; erased?: boolean }
  /** New messages: one `room_activity` sync row per member (small rooms only; see src/room/projection.ts). */
  | { op: "activity"; roomId: string; ts: number }
  /** Deleted or restored: a sync row for every member, online or not. */
  | { op: "room_state"; roomId: string; type: "room_deleted" | "room_restored"; seq: number; ts: number }
  | { op: "audit"; id: string; ts: number; actor: string; action: string; roomId: string; target: string | null; detail: string | null };

/** Writes the changes, in order, as one batch; throws if D1 refuses it. */
export async function writeIndex(db: D1Database, writes: IndexWrite[]): Promise<void> {
  await db.batch(writes.flatMap((write) => statementsFor(db, write)));
}

function syncRow(db: D1Database, userId: string, type: string, roomId: string, ts: number, dedupe: string): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO sync_log (user_id, type, room_id, ts, dedupe) VALUES (?, ?, ?, ?, ?)")
    .bind(userId, type, roomId, ts, dedupe);
}

function statementsFor(db: D1Database, entry: IndexWrite): D1PreparedStatement[] {
  switch (entry.op) {
    case "room":
      return [
        db
          .prepare(
            `INSERT INTO rooms (room_id, kind, created_ts, last_activity_ts, last_seq, deleted_ts) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (room_id) DO UPDATE SET
               last_activity_ts = max(rooms.last_activity_ts, excluded.last_activity_ts),
               deleted_ts = CASE WHEN excluded.last_seq >= rooms.last_seq THEN excluded.deleted_ts ELSE rooms.deleted_ts END,
               last_seq = max(rooms.last_seq, excluded.last_seq)`,
          )
          .bind(entry.roomId, entry.kind, entry.createdTs, entry.lastActivityTs, entry.lastSeq, entry.deletedTs),
      ];
    case "member":
      return [
        db
          .prepare(
            `INSERT INTO memberships (user_id, room_id, role, joined_ts, seq) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (user_id, room_id) DO UPDATE SET role = excluded.role, joined_ts = excluded.joined_ts, seq = excluded.seq
             WHERE excluded.seq >= memberships.seq`,
          )
          .bind(entry.userId, entry.roomId, entry.role, entry.joinedTs, entry.seq),
        syncRow(db, entry.userId, "room_joined", entry.roomId, entry.joinedTs, `${entry.roomId}|${entry.userId}|joined|${entry.seq}`),
        db.prepare("INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) VALUES (?, ?, ?)").bind(entry.userId, entry.roomId, entry.joinedTs),
      ];
    case "member_removed":
      if (entry.erased) {
        // While a user hold is active its release must still find the rooms that keep the
        // user's content (it nudges them to purge): their participation rows stay until then.
        return [
          db.prepare("DELETE FROM memberships WHERE user_id = ? AND room_id = ?").bind(entry.userId, entry.roomId),
          db.prepare(`DELETE FROM participation WHERE user_id = ? AND room_id = ? AND NOT ${USER_HELD}`).bind(entry.userId, entry.roomId, entry.userId),
          db
            .prepare(`INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) SELECT ?, ?, ? WHERE ${USER_HELD}`)
            .bind(entry.userId, entry.roomId, entry.ts, entry.userId),
        ];
      }
      return [
        db.prepare("DELETE FROM memberships WHERE user_id = ? AND room_id = ? AND seq <= ?").bind(entry.userId, entry.roomId, entry.seq),
        ...(entry.silent ? [] : [syncRow(db, entry.userId, "room_left", entry.roomId, entry.ts, `${entry.roomId}|${entry.userId}|left|${entry.seq}`)]),
        // A join and leave inside one flush leave only this entry: record the participation here too.
        db.prepare("INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) VALUES (?, ?, ?)").bind(entry.userId, entry.roomId, entry.ts),
      ];
    case "activity":
      // One row per member and room, moved to the end of the log by REPLACE: a client
      // syncing after a busy day learns "this room changed" once, not once per message.
      return [
        db
          .prepare(
            `INSERT OR REPLACE INTO sync_log (user_id, type, room_id, ts, dedupe)
             SELECT user_id, 'room_activity', room_id, ?, user_id || '|' || room_id || '|activity'
             FROM memberships WHERE room_id = ?`,
          )
          .bind(entry.ts, entry.roomId),
      ];
    case "room_state":
      return [
        db
          .prepare(
            `INSERT OR IGNORE INTO sync_log (user_id, type, room_id, ts, dedupe)
             SELECT user_id, ?, room_id, ?, room_id || '|' || user_id || '|' || ? || '|' || ?
             FROM memberships WHERE room_id = ?`,
          )
          .bind(entry.type, entry.ts, entry.type, entry.seq, entry.roomId),
      ];
    case "audit":
      return [
        db
          // A retry writes the same row; one an erasure rewrote (a pseudonym for the user) corrects the copy a flush in flight wrote.
          .prepare(
            `INSERT INTO audit_log (id, ts, actor, action, room_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET actor = excluded.actor, target = excluded.target`,
          )
          .bind(entry.id, entry.ts, entry.actor, entry.action, entry.roomId, entry.target, entry.detail),
      ];
  }
}
