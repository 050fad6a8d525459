/**
 * What the room's changes write for the outside: the D1 index, members' sync
 * logs, the audit log, inbox notices and push jobs, all as outbox rows
 * (outbox.ts), in the same synchronous turn as the change. Every feature
 * records its changes here; the outbox job (jobs.ts) flushes them.
 */
import type { RoomLimits } from "../kernel/config";
import type { Clock } from "../kernel/clock";
import type { EventLog } from "./event-log";
import type { Members } from "./members";
import type { RoomMetaStore } from "./meta";
import { type Outbox, type OutboxEntry, flushDelay } from "./outbox";
import type { Wake } from "./scheduler";

export class IndexProjection {
  constructor(
    private readonly roomId: string,
    private readonly limits: RoomLimits,
    private readonly clock: Clock,
    private readonly outbox: Outbox,
    private readonly meta: RoomMetaStore,
    private readonly members: Members,
    private readonly log: EventLog,
    private readonly wake: Wake,
  ) {}

  /** A row for the next flush (one per key: a later put replaces an earlier one). */
  put(key: string, entry: OutboxEntry): void {
    this.outbox.put(key, entry);
  }

  /** The outbox has something to write: a flush after the usual delay. */
  flushSoon(): void {
    this.wake.at(this.clock.now() + flushDelay(0));
  }

  audit(actor: string, action: string, target: string | null, detail: string | null, ts: number): void {
    const id = crypto.randomUUID();
    this.outbox.put(`audit:${id}`, { op: "audit", id, ts, actor, action, roomId: this.roomId, target, detail });
  }

  /**
   * Records activity for the index: one outbox row per room, however many
   * messages. New messages also go to members' sync logs, but only in rooms up
   * to the large-room threshold: above it, one message would mean thousands of
   * D1 rows, and members learn of activity on read (listRooms) instead.
   */
  touch(seq: number, ts: number, isMessage: boolean): void {
    const meta = this.meta.current!;
    this.outbox.putLatest("room", {
      op: "room",
      roomId: this.roomId,
      kind: meta.kind,
      createdTs: meta.createdTs,
      lastActivityTs: ts,
      lastSeq: seq,
      deletedTs: meta.deletedTs,
    });
    const small = this.members.count() <= this.limits.largeRoomMembers;
    if (isMessage && small) this.outbox.putLatest("activity", { op: "activity", roomId: this.roomId, ts });
    // Members' inboxes hear of every change (unread counts move on deletions too), in
    // small rooms only; one row, however many changes, delivered by the alarm.
    if (small) this.outbox.putLatest("inbox:activity", { op: "inbox", roomId: this.roomId, kind: "activity", seq, userId: null });
    this.flushSoon();
  }

  /** A new message: offline members are notified by push, in rooms up to the fan-out threshold (inbox-delivery.ts). */
  pushFor(seq: number): void {
    if (this.members.count() <= this.limits.largeRoomMembers) this.outbox.putLatest("push", { op: "push", roomId: this.roomId, seq });
  }

  /**
   * What a `putLatest` outbox row says when it is flushed: the room as it is
   * now (committed state), never older than what the row already said.
   */
  latest(entry: OutboxEntry): OutboxEntry {
    const meta = this.meta.current;
    if (!meta) return entry;
    switch (entry.op) {
      case "room": {
        const last = this.log.lastEvent();
        return {
          ...entry,
          kind: meta.kind,
          createdTs: meta.createdTs,
          deletedTs: meta.deletedTs,
          lastSeq: Math.max(entry.lastSeq, last?.seq ?? 0),
          lastActivityTs: Math.max(entry.lastActivityTs, last?.ts ?? 0),
        };
      }
      case "activity":
        return { ...entry, ts: Math.max(entry.ts, this.log.lastMessageRef()?.ts ?? 0) };
      case "push":
        return { ...entry, seq: Math.max(entry.seq, this.log.lastMessageRef()?.seq ?? 0) };
      case "inbox":
        return entry.kind === "activity" && entry.userId === null ? { ...entry, seq: Math.max(entry.seq, this.log.lastEvent()?.seq ?? 0) } : entry;
      default:
        return entry;
    }
  }
}
