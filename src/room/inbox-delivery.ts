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
import type { InboxNotice, InboxRoom, PushJob } from "../protocol";
import { mapBounded } from "../kernel/bounded";
import type { Metrics } from "../ops/metrics";
import { errorText, log } from "../ops/log";
import type { DeliveryEntry } from "./outbox";
import type { RoomState } from "./state";
import { type PendingReads, preview, summarise } from "./summary";

export type InboxEntry = Extract<DeliveryEntry, { op: "inbox" }>;
export type PushEntry = Extract<DeliveryEntry, { op: "push" }>;

/** Inbox RPCs in flight at once. */
const DELIVERY_CONCURRENCY = 16;

export interface InboxTarget {
  notify(notices: InboxNotice[]): Promise<unknown>;
}

/** The notices each user gets for these entries. */
export function noticesFor(state: RoomState, reads: PendingReads, entries: InboxEntry[]): Map<string, InboxNotice[]> {
  const byUser = new Map<string, InboxNotice[]>();
  const add = (userId: string, notice: InboxNotice) => {
    // In order; the inbox skips a notice that changes nothing (same seq, same state).
    const list = byUser.get(userId);
    if (list) list.push(notice);
    else byUser.set(userId, [notice]);
  };
  const deleted = state.meta.current?.deletedTs != null;
  const members = () => state.members.list().map((m) => m.user_id);
  const memberState = (userId: string): InboxRoom | null => {
    const s = summarise(state.roomId, state.log, state.members, reads, userId);
    if (!s) return null;
    return { roomId: state.roomId, seq: s.seq, state: "member", unreadCount: s.unreadCount, lastMessage: s.lastMessage, lastActivityTs: s.lastActivityTs };
  };
  for (const entry of entries) {
    switch (entry.kind) {
      case "activity": {
        if (deleted || state.members.count() > state.limits.largeRoomMembers) break;
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
        if (entry.userId !== null) add(entry.userId, { kind: "left", room: { roomId: state.roomId, seq: entry.seq, state: "left" } });
        break;
      case "deleted":
        for (const userId of entry.userId === null ? members() : [entry.userId]) {
          add(userId, { kind: "deleted", room: { roomId: state.roomId, seq: entry.seq, state: "deleted" } });
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
export function pushJobsFor(state: RoomState, devicesOf: (userId: string) => number, entry: PushEntry): PushJob[] {
  if (state.meta.current?.deletedTs != null || state.members.count() > state.limits.largeRoomMembers) return [];
  const message = state.log.message(entry.seq);
  if (!message || message.deleted) return [];
  const payload = { type: "message" as const, roomId: state.roomId, seq: message.seq, messageId: message.id, sender: message.sender, preview: preview(message.content), ts: message.ts };
  return state.members
    .list()
    .filter((m) => m.user_id !== message.sender && devicesOf(m.user_id) === 0)
    .map((m) => ({ userId: m.user_id, payload }));
}

/** The user's inbox object (src/user/inbox.ts), as a room reaches it. */
export type InboxOf = (userId: string) => InboxTarget;

/**
 * The outbox's delivery sink: inbox notices for its inbox rows, push jobs for
 * its push rows; says per row whether it went out.
 */
export class Deliverer {
  constructor(
    private readonly state: RoomState,
    private readonly reads: PendingReads,
    private readonly devicesOf: (userId: string) => number,
    private readonly pushQueue: Queue<PushJob> | undefined,
    private readonly metrics: Metrics,
    /** A member's inbox; tests swap in a failing one to prove retries. */
    public inboxOf: InboxOf,
  ) {}

  async deliver(entries: DeliveryEntry[]): Promise<boolean[]> {
    const inboxEntries = entries.filter((e): e is InboxEntry => e.op === "inbox");
    const jobs = entries.flatMap((e) => (e.op === "push" ? pushJobsFor(this.state, this.devicesOf, e) : []));
    const notices = noticesFor(this.state, this.reads, inboxEntries);
    const [delivered, queued] = await Promise.all([deliverNotices(notices, this.inboxOf), this.#enqueuePush(jobs)]);
    return entries.map((e) => (e.op === "inbox" ? delivered : queued));
  }

  async #enqueuePush(jobs: PushJob[]): Promise<boolean> {
    const queue = this.pushQueue;
    if (!queue || jobs.length === 0) return true;
    try {
      for (let i = 0; i < jobs.length; i += 100) await queue.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
      this.metrics.count("push_enqueued", "", jobs.length);
      return true;
    } catch (error) {
      this.metrics.count("push_enqueue_failures");
      log("warn", "push_enqueue_failed", { room: this.state.roomId, jobs: jobs.length, error: errorText(error) });
      return false;
    }
  }
}
