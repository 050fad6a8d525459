/**
 * Delivers a room's inbox outbox rows to members' inboxes (one Durable Object
 * per user). Called from the room's alarm, never on the send path: a burst of
 * messages leaves one `inbox:activity` row, delivered once per flush.
 *
 * Fan-out on write happens only up to the large-room threshold
 * (`LARGE_ROOM_MEMBERS`, default 100): one message in a room of N members costs
 * N inbox RPCs, and above the threshold members learn of activity on read
 * (listRooms, sync) instead. Joins, leaves, deletions and restores go to
 * their recipients whatever the room's size: they are rare, and a member must
 * not miss them.
 *
 * What a notice says is read from the room at delivery time, so a retried
 * delivery carries the latest state; inboxes ignore notices older than what
 * they have (by the room's seq), so retries and reordering are harmless.
 */
import type { InboxNotice, InboxRoom } from "../protocol";
import { mapBounded } from "../kernel/bounded";
import type { RoomCore } from "./core";
import type { OutboxEntry } from "./outbox";
import { preview } from "./summary";
import type { PushJob, RoomSummaryForUser } from "../protocol";
import { errorText, log } from "../ops/log";

export type InboxEntry = Extract<OutboxEntry, { op: "inbox" }>;
export type PushEntry = Extract<OutboxEntry, { op: "push" }>;

/** Inbox RPCs in flight at once. */
const DELIVERY_CONCURRENCY = 16;

export interface InboxTarget {
  notify(notices: InboxNotice[]): Promise<unknown>;
}

/** The notices each user gets for these entries. */
export function noticesFor(
  core: RoomCore,
  summaryOf: (userId: string) => RoomSummaryForUser | null,
  entries: InboxEntry[],
): Map<string, InboxNotice[]> {
  const byUser = new Map<string, InboxNotice[]>();
  const add = (userId: string, notice: InboxNotice) => {
    // In order; the inbox skips a notice that changes nothing (same seq, same state).
    const list = byUser.get(userId);
    if (list) list.push(notice);
    else byUser.set(userId, [notice]);
  };
  const deleted = core.meta?.deletedTs != null;
  const members = () => core.members.list().map((m) => m.user_id);
  const memberState = (userId: string): InboxRoom | null => {
    const s = summaryOf(userId);
    if (!s) return null;
    return { roomId: core.roomId, seq: s.seq, state: "member", unreadCount: s.unreadCount, lastMessage: s.lastMessage, lastActivityTs: s.lastActivityTs };
  };
  for (const entry of entries) {
    switch (entry.kind) {
      case "activity": {
        if (deleted || core.members.count() > core.limits.largeRoomMembers) break;
        for (const userId of members()) {
          const room = memberState(userId);
          if (room) add(userId, { kind: "activity", room });
        }
        break;
      }
      case "read":
      case "joined":
      case "restored": {
        if (deleted && entry.kind !== "restored") break;
        const recipients = entry.userId === null ? members() : [entry.userId];
        for (const userId of recipients) {
          const room = memberState(userId);
          // Gone since (a leave follows with its own notice), or deleted again.
          if (room) add(userId, { kind: entry.kind, room: { ...room, seq: Math.max(room.seq, entry.seq) } });
        }
        break;
      }
      case "left":
        if (entry.userId !== null) add(entry.userId, { kind: "left", room: { roomId: core.roomId, seq: entry.seq, state: "left" } });
        break;
      case "deleted":
        for (const userId of entry.userId === null ? members() : [entry.userId]) {
          add(userId, { kind: "deleted", room: { roomId: core.roomId, seq: entry.seq, state: "deleted" } });
        }
        break;
    }
  }
  return byUser;
}

/** Delivers every user's notices; true once all inboxes have them. */
export async function deliverNotices(byUser: Map<string, InboxNotice[]>, inboxOf: (userId: string) => InboxTarget): Promise<boolean> {
  const results = await mapBounded([...byUser], DELIVERY_CONCURRENCY, async ([userId, notices]) => {
    try {
      await inboxOf(userId).notify(notices);
      return true;
    } catch (error) {
      log("warn", "inbox_notify_failed", { user: userId, error: errorText(error) });
      return false;
    }
  });
  return results.every(Boolean);
}

/**
 * Push jobs for a new message: one per member other than the sender with no
 * live socket in this room now (the consumer then checks their inbox socket
 * and mutes). Deleted messages, deleted rooms and large rooms send none.
 */
export function pushJobsFor(core: RoomCore, devicesOf: (userId: string) => number, entry: PushEntry): PushJob[] {
  if (core.meta?.deletedTs != null || core.members.count() > core.limits.largeRoomMembers) return [];
  const message = core.log.message(entry.seq);
  if (!message || message.deleted) return [];
  const payload = { type: "message" as const, roomId: core.roomId, seq: message.seq, messageId: message.id, sender: message.sender, preview: preview(message.content), ts: message.ts };
  return core.members
    .list()
    .filter((m) => m.user_id !== message.sender && devicesOf(m.user_id) === 0)
    .map((m) => ({ userId: m.user_id, payload }));
}
