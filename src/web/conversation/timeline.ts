/**
 * The conversation's message list: the scrolling log, history paged in as
 * the reader scrolls up ("Load older messages", "This is the beginning of the
 * conversation."), live messages put in `seq` order, edits and tombstones.
 *
 * Stored messages are keyed by `seq` and by id. Sends still in flight are the
 * composer's; it places them here with `appendPending` and, once stored,
 * `place`.
 */
import { DEFAULT_HISTORY_LIMIT } from "../../client";
import type { ChatClient, HistoryPage, Message } from "../../client";
import { h, replaceChildren } from "../dom";
import type { MessageView } from "../message-view";

/** A page of history: the server's default size. */
const PAGE_SIZE = DEFAULT_HISTORY_LIMIT;
/** Load the next older page when the view is this close to the top. */
const NEAR_TOP_PX = 150;
/** Closer than this to the bottom counts as reading the newest: new messages keep it in view. */
const NEAR_BOTTOM_PX = 80;

export interface TimelineHooks {
  /** A view for a stored message (the conversation gives it its actions). */
  view(message: Message): MessageView;
  /** A page of history brought in some of our own messages. */
  ownPaged(): void;
  /** A live message of ours went in. */
  ownLive(): void;
}

export class Timeline {
  readonly scroller: HTMLElement;
  readonly #log = h("ol", { class: "messages" });
  readonly #olderButton = h("button", { type: "button", class: "secondary older", hidden: true }, "Load older messages");
  readonly #start = h("p", { class: "history-start", hidden: true, text: "This is the beginning of the conversation." });
  readonly #bySeq = new Map<number, MessageView>();
  readonly #byId = new Map<string, MessageView>();
  #cursor: string | null = null;
  #loadingOlder = false;
  #atBottom = true;
  #closed = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
    private readonly hooks: TimelineHooks,
  ) {
    this.scroller = h(
      "div",
      { class: "scroller", tabindex: 0, role: "log", "aria-label": "Conversation history", "aria-live": "polite", "aria-relevant": "additions" },
      this.#start,
      this.#olderButton,
      this.#log,
    );
    this.#olderButton.addEventListener("click", () => void this.#loadOlder());
    this.scroller.addEventListener("scroll", () => {
      this.#atBottom = this.#nearBottom();
      if (this.scroller.scrollTop < NEAR_TOP_PX) void this.#loadOlder();
    });
    // An image preview that loads grows its message: keep the newest in view if the reader was there.
    this.#log.addEventListener(
      "load",
      () => {
        if (this.#atBottom) this.scrollToBottom();
      },
      true,
    );
  }

  /** The newest page of history; the live subscription starts where it ends. */
  newestPage(): Promise<HistoryPage> {
    return this.chat.getHistory(this.roomId, { limit: PAGE_SIZE });
  }

  /** Shows the newest page (from `newestPage`), scrolled to its end. */
  showNewest(page: HistoryPage): void {
    this.#prepend(page.messages);
    this.#cursor = page.nextCursor;
    this.#updateHistoryEnds();
    this.scrollToBottom();
  }

  /** While the messages do not fill the view there is nothing to scroll: load older pages until they do. */
  async fillViewport(): Promise<void> {
    while (this.#cursor && !this.#closed && this.scroller.scrollHeight <= this.scroller.clientHeight + NEAR_TOP_PX) {
      const cursor = this.#cursor;
      await this.#loadOlder();
      if (this.#cursor === cursor) return;
    }
  }

  /** The room's history was reset: start over from its newest page. */
  async reload(): Promise<void> {
    this.#bySeq.clear();
    this.#byId.clear();
    replaceChildren(this.#log);
    const page = await this.newestPage().catch(() => null);
    if (!page || this.#closed) return;
    this.showNewest(page);
  }

  close(): void {
    this.#closed = true;
  }

  /** Stored messages shown, keyed by seq. */
  views(): Iterable<MessageView> {
    return this.#bySeq.values();
  }

  bySeq(seq: number): MessageView | undefined {
    return this.#bySeq.get(seq);
  }

  /** A live message (not one of our sends in flight: the composer settles those). */
  addLive(message: Message): void {
    if (this.#bySeq.has(message.seq)) return;
    const stick = this.#nearBottom();
    this.#insertInOrder(this.#track(this.hooks.view(message)));
    if (stick) this.scrollToBottom();
    if (message.sender === this.me) this.hooks.ownLive();
  }

  edited(message: Message): void {
    this.#byId.get(message.id)?.update(message);
  }

  /** The message became a tombstone; answers its view, if shown. */
  tombstone(messageId: string, deletedBy: string, deletedTs: string): MessageView | undefined {
    const view = this.#byId.get(messageId);
    const message = view?.message;
    if (view && message) view.update({ ...message, content: "", deleted: true, deletedBy, deletedTs });
    return view;
  }

  /** A send in flight goes at the end, in view. */
  appendPending(view: MessageView): void {
    this.#log.appendChild(view.el);
    this.scrollToBottom();
  }

  /** A view that now holds a stored message moves to its place in seq order. */
  place(view: MessageView): void {
    view.el.remove();
    this.#insertInOrder(this.#track(view));
  }

  scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.#atBottom = true;
  }

  /** Adds messages older than those shown (or the first page), skipping any already shown. */
  #prepend(messages: Message[]): void {
    const fresh = messages.filter((m) => !this.#bySeq.has(m.seq));
    const first = this.#log.firstElementChild;
    for (const message of fresh) this.#log.insertBefore(this.#track(this.hooks.view(message)).el, first);
    if (fresh.some((m) => m.sender === this.me)) this.hooks.ownPaged();
  }

  async #loadOlder(): Promise<void> {
    if (this.#loadingOlder || !this.#cursor || this.#closed) return;
    this.#loadingOlder = true;
    this.#olderButton.disabled = true;
    this.#olderButton.textContent = "Loading older messages…";
    try {
      const page = await this.chat.getHistory(this.roomId, { cursor: this.#cursor, limit: PAGE_SIZE });
      // Keep what the reader is looking at in place while the page goes in above it.
      const before = this.scroller.scrollHeight - this.scroller.scrollTop;
      this.#prepend(page.messages);
      this.#cursor = page.nextCursor;
      this.scroller.scrollTop = this.scroller.scrollHeight - before;
    } catch {
      // A network blip: the button stays, scrolling up again retries.
    } finally {
      this.#loadingOlder = false;
      this.#olderButton.disabled = false;
      this.#olderButton.textContent = "Load older messages";
      this.#updateHistoryEnds();
    }
  }

  #updateHistoryEnds(): void {
    this.#olderButton.hidden = this.#cursor === null;
    this.#start.hidden = this.#cursor !== null;
  }

  #track(view: MessageView): MessageView {
    const message = view.message;
    if (message) {
      this.#bySeq.set(message.seq, view);
      this.#byId.set(message.id, view);
    }
    return view;
  }

  #insertInOrder(view: MessageView): void {
    const seq = view.seq ?? Number.MAX_SAFE_INTEGER;
    let after: Element | null = null;
    for (let node = this.#log.lastElementChild; node; node = node.previousElementSibling) {
      if (Number((node as HTMLElement).dataset.seq) < seq) {
        after = node;
        break;
      }
    }
    this.#log.insertBefore(view.el, after ? after.nextElementSibling : this.#log.firstElementChild);
  }

  #nearBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }
}
