/**
 * The caller's room list: which rooms comes from the D1 index (one query,
 * sorted), what each shows (unread count, last message) from the rooms
 * themselves, asked in parallel with bounded concurrency. The room is the
 * source of truth for read positions and deletions, so a count is right the
 * moment a read or a deletion is stored; D1 would lag by the outbox delay and
 * would need a write per member per message to keep counters.
 *
 * A room that says the caller is not a member (the index lags a leave) is
 * dropped; a room that cannot be reached keeps its index entry without the
 * extra fields, rather than failing the whole list.
 */
import type { RoomSummary, RoomSummaryForUser } from "../protocol";
import { mapBounded } from "../kernel/bounded";
import { errorText, log } from "../ops/log";

/** Rooms asked at once; a user with 500 rooms costs 500 small RPCs, 16 in flight. */
export const SUMMARY_CONCURRENCY = 16;

export async function enrichRooms(env: Env, userId: string, rooms: RoomSummary[]): Promise<RoomSummary[]> {
  const summaries = await mapBounded(rooms, SUMMARY_CONCURRENCY, async (room): Promise<RoomSummaryForUser | null | "unreachable"> => {
    try {
      return await env.ROOMS.getByName(room.roomId).summaryFor(userId);
    } catch (error) {
      log("warn", "room_summary_failed", { room: room.roomId, error: errorText(error) });
      return "unreachable";
    }
  });
  const out: RoomSummary[] = [];
  rooms.forEach((room, i) => {
    const s = summaries[i];
    if (s === null) return;
    if (s === undefined || s === "unreachable") return void out.push(room);
    const lastActivityTs = Date.parse(s.lastActivityTs) > Date.parse(room.lastActivityTs) ? s.lastActivityTs : room.lastActivityTs;
    out.push({ ...room, lastActivityTs, lastSeq: Math.max(room.lastSeq, s.seq), unreadCount: s.unreadCount, lastMessage: s.lastMessage });
  });
  // Most recent activity first, by the rooms' own clocks (the index may lag behind them).
  return out.sort((a, b) => Date.parse(b.lastActivityTs) - Date.parse(a.lastActivityTs) || (a.roomId < b.roomId ? -1 : 1));
}
