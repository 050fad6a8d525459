/**
 * The user's own record of every room they ever joined, kept in their Inbox
 * object (its table `user_rooms`): what their erasure must reach.
 *
 * Why here and written this way: the D1 index (memberships, participation)
 * is written by room outboxes seconds after the change, so an erasure that
 * read only it missed a room joined a second ago. A room writes itself into
 * this record over RPC before it answers the join (src/room/membership.ts,
 * `recorded`), so once a join is answered, the room is here. Telling the
 * Inbox through the outbox would have the D1 index's lag again. The record
 * never forgets a room on leave: messages stay behind in rooms one has left.
 * Rooms joined before this record existed, or whose write failed, are still
 * in the D1 index, and the erasure reads both (src/user/erasure.ts).
 */

/** The room's side: writes `roomId` into the user's record. */
export async function recordMembership(env: Env, userId: string, roomId: string): Promise<void> {
  await env.INBOXES.getByName(userId).recordRoom(roomId);
}

export class MembershipRecord {
  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS user_rooms (room_id TEXT PRIMARY KEY, first_ts INTEGER NOT NULL)");
  }

  /** Idempotent: a second join of the same room keeps the first time. */
  record(roomId: string): void {
    this.sql.exec("INSERT INTO user_rooms (room_id, first_ts) VALUES (?, ?) ON CONFLICT (room_id) DO NOTHING", roomId, this.now());
  }

  rooms(): string[] {
    return this.sql
      .exec<{ room_id: string }>("SELECT room_id FROM user_rooms ORDER BY room_id")
      .toArray()
      .map((row) => row.room_id);
  }

  /** The last step of an erasure: the record itself names the user's rooms. */
  clear(): void {
    this.sql.exec("DELETE FROM user_rooms");
  }
}
