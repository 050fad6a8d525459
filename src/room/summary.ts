/**
 * What one member's room list shows about this room: how many messages they
 * have not read, the last message (a short preview, or a tombstone), and when
 * the room last changed. The room computes it from its own SQLite, so it is
 * right the moment a read or a deletion is stored, where the D1 index could
 * lag by seconds.
 *
 * Unread = messages after the member's read position (stored `read_seq`, or a
 * newer position still waiting in memory for the receipt batch) that are not
 * deleted and were not sent by the member, counted up to UNREAD_CAP (clients
 * show "999+"); the log counts them from the read position, so the cost grows
 * with the unread messages, never with the history.
 */
import type { RoomSummaryForUser } from "../protocol";
import type { EventLog } from "./event-log";
import type { Members } from "./members";

export const UNREAD_CAP = 999;
const PREVIEW_CHARS = 100;

/** Read positions not yet written (receipts.ts keeps them in memory for a batch). */
export interface PendingReads {
  pendingFor(userId: string): number;
}

/** The first PREVIEW_CHARS characters, never splitting a surrogate pair. */
export function preview(content: string): string {
  const chars = Array.from(content);
  return chars.length <= PREVIEW_CHARS ? content : `${chars.slice(0, PREVIEW_CHARS).join("")}…`;
}

/** The member's summary, or null if they are not a member (deleted rooms included: callers decide). */
export function summarise(roomId: string, log: EventLog, members: Members, reads: PendingReads, userId: string): RoomSummaryForUser | null {
  const member = members.get(userId);
  if (!member) return null;
  const readSeq = Math.max(member.read_seq, reads.pendingFor(userId));
  const head = log.lastEvent();
  return {
    roomId,
    seq: head?.seq ?? 0,
    readSeq,
    unreadCount: log.unreadCount(userId, readSeq, UNREAD_CAP),
    lastMessage: log.lastMessage(preview),
    lastActivityTs: new Date(head?.ts ?? 0).toISOString(),
  };
}
