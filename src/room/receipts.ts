/**
 * Read receipts: "read up to and including seq", forward only, shared by all
 * of a user's devices. A fast reader sends one per message; the room keeps the
 * highest position per user in memory and writes and announces them together
 * about once a second, so reading a busy room costs one write per second, not
 * one per message. (A position not yet written when the room is evicted is
 * lost; clients send their position again on their next read.)
 */
import type { Receipt, ServerFrame } from "../protocol";
import type { Members } from "./members";

export const RECEIPT_BATCH_MS = 1_000;

export class Receipts {
  #pending = new Map<string, number>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly roomId: string,
    private readonly members: Members,
    private readonly largeRoomMembers: number,
  ) {}

  /** Records a read position. Returns true if a flush must be scheduled. */
  mark(userId: string, seq: number, head: number): { seq: number; scheduled: boolean } {
    const member = this.members.get(userId);
    const current = Math.max(member?.read_seq ?? 0, this.#pending.get(userId) ?? 0);
    const target = Math.min(seq, head);
    if (target <= current) return { seq: current, scheduled: false };
    const wasEmpty = this.#pending.size === 0;
    this.#pending.set(userId, target);
    return { seq: target, scheduled: wasEmpty };
  }

  /** A read position not yet written (0 if none): unread counts must see it at once. */
  pendingFor(userId: string): number {
    return this.#pending.get(userId) ?? 0;
  }

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Writes pending positions and says who should hear of each: everyone, or
   * (private readers, large rooms) only the reader's own devices.
   */
  flush(send: (frame: ServerFrame, onlyUser: string | null) => void): void {
    if (this.#pending.size === 0) return;
    const large = this.members.count() > this.largeRoomMembers;
    for (const [userId, seq] of this.#pending) {
      const updated = this.sql
        .exec<{ receipts_private: number }>(
          "UPDATE members SET read_seq = ? WHERE user_id = ? AND read_seq < ? RETURNING receipts_private",
          seq,
          userId,
          seq,
        )
        .toArray()[0];
      if (!updated) continue;
      const frame: ServerFrame = { type: "receipt", roomId: this.roomId, userId, seq };
      send(frame, updated.receipts_private === 1 || large ? userId : null);
    }
    this.#pending.clear();
  }

  /** Every member's read position, except private ones (the viewer always sees their own). */
  list(viewer: string): Receipt[] {
    return this.members
      .list()
      .filter((m) => m.receipts_private === 0 || m.user_id === viewer)
      .map((m) => ({ userId: m.user_id, seq: Math.max(m.read_seq, this.#pending.get(m.user_id) ?? 0) }));
  }
}
