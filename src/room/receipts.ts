/**
 * Read receipts: "read up to and including seq", forward only, shared by all
 * of a user's devices. A fast reader sends one per message; the room keeps the
 * highest position per user in memory and writes and announces them together
 * about once a second (the alarm's receipts job), so reading a busy room costs
 * one write per second, not one per message. (A position not yet written when
 * the room is evicted is lost; clients send their position again on their
 * next read.) Positions are stored in `members` (members.ts).
 */
import type { ErrorBody, Receipt, ServerFrame } from "../protocol";
import type { LiveSockets } from "./connections";
import type { AlarmJob } from "./scheduler";
import type { RoomState } from "./state";
import type { PendingReads } from "./summary";

export const RECEIPT_BATCH_MS = 1_000;

export class Receipts implements AlarmJob, PendingReads {
  readonly name = "receipts";
  #pending = new Map<string, number>();

  constructor(
    private readonly state: RoomState,
    private readonly sockets: LiveSockets,
  ) {}

  /** A member read up to `seq` (capped at the head); the batch goes out within RECEIPT_BATCH_MS. */
  mark(userId: string, seq: number): ErrorBody | null {
    const { state } = this;
    const member = state.requireMember(userId);
    if (!member.ok) return member.error;
    const current = Math.max(state.members.get(userId)?.read_seq ?? 0, this.#pending.get(userId) ?? 0);
    const target = Math.min(seq, state.log.head);
    if (target <= current) return null;
    const wasEmpty = this.#pending.size === 0;
    this.#pending.set(userId, target);
    if (wasEmpty) state.wake.at(state.clock.now() + RECEIPT_BATCH_MS);
    return null;
  }

  /** A read position not yet written (0 if none): unread counts must see it at once. */
  pendingFor(userId: string): number {
    return this.#pending.get(userId) ?? 0;
  }

  /**
   * The alarm job: writes pending positions and announces each to everyone,
   * or (private readers, large rooms) only to the reader's own devices; the
   * reader's inbox (their other devices) learns the new unread count whatever
   * the room's size.
   */
  run(): null {
    if (this.#pending.size === 0) return null;
    const { state } = this;
    const large = state.members.count() > state.limits.largeRoomMembers;
    const head = state.log.head;
    for (const [userId, seq] of this.#pending) {
      const updated = state.members.advanceRead(userId, seq);
      if (!updated) continue;
      const frame: ServerFrame = { type: "receipt", roomId: state.roomId, userId, seq };
      this.sockets.broadcastEphemeral(frame, head, updated.receiptsPrivate || large ? { onlyUser: userId } : {});
      state.index.put(`inbox:read:${userId}`, { op: "inbox", roomId: state.roomId, kind: "read", seq, userId });
    }
    this.#pending.clear();
    return null;
  }

  /** Every member's read position, except private ones (the viewer always sees their own). */
  list(viewer: string): Receipt[] {
    return this.state.members
      .list()
      .filter((m) => m.receipts_private === 0 || m.user_id === viewer)
      .map((m) => ({ userId: m.user_id, seq: Math.max(m.read_seq, this.#pending.get(m.user_id) ?? 0) }));
  }
}
