/**
 * Reading, both ways. Others' read positions (receipts) become "Seen by …" on
 * our latest stored message. Our own position is marked read while the
 * conversation is on screen (the tab visible), coalesced while messages
 * stream in, and flushed when the conversation closes.
 */
import type { ChatClient } from "../../client";
import type { MessageView } from "../message-view";

/** Reads are coalesced: one mark per this interval while messages stream in. */
const READ_DELAY_MS = 300;

export interface ReadSource {
  /** The stored messages shown. */
  views(): Iterable<MessageView>;
  /** The seq of the last event the live subscription delivered (0 before it is live). */
  lastSeq(): number;
  /** The room was marked read up to its latest event (its unread badge can clear). */
  onRead(): void;
}

export class ReadState {
  /** Read positions of members (receipts), by user id. */
  readonly #receipts = new Map<string, number>();
  #seenView: MessageView | null = null;
  /** The highest seq this view knows of, and the highest it has marked read. */
  #headSeq = 0;
  #readSeq = 0;
  #readTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #onVisibility = () => {
    if (document.visibilityState === "visible") this.#scheduleRead();
  };

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
    private readonly source: ReadSource,
  ) {
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  /** The room has events up to `seq`: mark them read soon. */
  noteHead(seq: number): void {
    this.#headSeq = Math.max(this.#headSeq, seq);
    this.#scheduleRead();
  }

  /** Receipts are ephemeral frames: read the current ones whenever the socket (re)goes live. */
  async loadReceipts(): Promise<void> {
    try {
      for (const { userId, seq } of await this.chat.receipts(this.roomId)) this.receipt(userId, seq);
    } catch {
      // Receipts are a nicety: live ones still arrive.
    }
  }

  receipt(userId: string, seq: number): void {
    if (userId === this.me) return;
    if ((this.#receipts.get(userId) ?? 0) >= seq) return;
    this.#receipts.set(userId, seq);
    this.updateSeen();
  }

  /** Older messages of ours came in: one may be the latest, if receipts are known. */
  ownPaged(): void {
    if (this.#receipts.size > 0) this.updateSeen();
  }

  /** A message was deleted: if it carried "Seen by", the line moves. */
  tombstoned(view: MessageView | undefined): void {
    if (view === this.#seenView) this.updateSeen();
  }

  /** "Seen by …" goes on our latest stored message, naming the members who have read up to it. */
  updateSeen(): void {
    let latest: MessageView | null = null;
    for (const view of this.source.views()) {
      const m = view.message;
      if (m && m.sender === this.me && !m.deleted && (!latest || m.seq > (latest.seq ?? 0))) latest = view;
    }
    if (this.#seenView && this.#seenView !== latest) this.#seenView.setSeenBy([]);
    this.#seenView = latest;
    if (!latest?.message) return;
    const seq = latest.message.seq;
    latest.setSeenBy([...this.#receipts].filter(([, read]) => read >= seq).map(([userId]) => userId));
  }

  close(): void {
    // A read still waiting for its coalescing delay is sent now: leaving at once must not leave the room unread.
    if (this.#readTimer) {
      clearTimeout(this.#readTimer);
      this.#readTimer = null;
      this.#markRead();
    }
    this.#closed = true;
    document.removeEventListener("visibilitychange", this.#onVisibility);
  }

  /** Marks the room read up to the newest event, soon, if the conversation is on screen. */
  #scheduleRead(): void {
    if (this.#readTimer || this.#closed) return;
    this.#readTimer = setTimeout(() => {
      this.#readTimer = null;
      this.#markRead();
    }, READ_DELAY_MS);
  }

  #markRead(): void {
    if (this.#closed || document.visibilityState !== "visible") return;
    const seq = Math.max(this.#headSeq, this.source.lastSeq());
    if (seq <= this.#readSeq) return;
    this.#readSeq = seq;
    this.source.onRead();
    this.chat.markRead(this.roomId, seq).catch(() => {
      this.#readSeq = 0; // tried again on the next event or visibility change
    });
  }
}
