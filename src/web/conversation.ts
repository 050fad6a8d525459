/**
 * The open conversation: history that pages older messages in as you scroll
 * up, live events from a subscription that starts exactly where the first
 * history page ended (its `headSeq`, so nothing is missed or shown twice),
 * the composer with per-message delivery state, the reconnect banner, the
 * member list, and deletion of the whole conversation.
 *
 * Messages are keyed by `seq`; a send in flight is keyed by its `clientId`
 * until the server's copy (from the ack or the live stream, whichever comes
 * first) takes its place.
 */
import { ChatError, type ChatClient, type Message, type RoomSummary, type Subscription } from "../client";
import { h, replaceChildren } from "./dom";
import { MembersPanel } from "./members";
import { MessageView, describe } from "./message-view";

const PAGE_SIZE = 50;
/** A send not stored after this long is shown as failed, with Retry (the retry reuses its clientId). */
const SEND_TIMEOUT_MS = 10_000;
/** Load the next older page when the view is this close to the top. */
const NEAR_TOP_PX = 150;

export interface ConversationHooks {
  /** Something happened in the room (the room list may want to refresh). */
  onActivity(roomId: string): void;
  /** The room is gone for us (deleted, or we are no longer a member). */
  onGone(roomId: string): void;
  onRestored(roomId: string): void;
  /** Mobile layout: go back to the room list. */
  onBack(): void;
  displayName(roomId: string): string;
}

interface PendingSend {
  clientId: string;
  content: string;
  view: MessageView;
  controller: AbortController | null;
}

export class ConversationView {
  readonly el: HTMLElement;
  readonly #log = h("ol", { class: "messages" });
  readonly #scroller: HTMLElement;
  readonly #olderButton = h("button", { type: "button", class: "secondary older", hidden: true }, "Load older messages");
  readonly #start = h("p", { class: "history-start", hidden: true, text: "This is the beginning of the conversation." });
  readonly #banner = h("div", { class: "banner", role: "status", "aria-live": "polite" });
  readonly #notice = h("div", { class: "notice", hidden: true });
  readonly #composer: HTMLFormElement;
  readonly #input = h("textarea", { id: "message-input", "aria-label": "Message", rows: 1, placeholder: "Write a message", autocomplete: "off" });
  readonly #sendButton = h("button", { type: "submit", class: "send" }, "Send");
  readonly #roomActions = h("div", { class: "room-actions" });
  readonly #members: MembersPanel;
  readonly #bySeq = new Map<number, MessageView>();
  readonly #byId = new Map<string, MessageView>();
  readonly #pending = new Map<string, PendingSend>();
  #cursor: string | null = null;
  #loadingOlder = false;
  #subscription: Subscription | null = null;
  #wasLive = false;
  #closed = false;

  constructor(
    private readonly chat: ChatClient,
    readonly roomId: string,
    private readonly me: string,
    private readonly summary: RoomSummary | undefined,
    private readonly hooks: ConversationHooks,
  ) {
    this.#members = new MembersPanel(chat, roomId, me);
    const title = h("h2", { id: "conversation-title", text: hooks.displayName(roomId) });
    this.#scroller = h(
      "div",
      { class: "scroller", tabindex: 0, role: "log", "aria-label": "Conversation history", "aria-live": "polite", "aria-relevant": "additions" },
      this.#start,
      this.#olderButton,
      this.#log,
    );
    this.#composer = h("form", { class: "composer" }, this.#input, this.#sendButton);
    this.el = h(
      "section",
      { class: "conversation", "aria-labelledby": "conversation-title" },
      h(
        "header",
        { class: "conversation-head" },
        h("button", { type: "button", class: "back secondary", onclick: () => hooks.onBack() }, "Back to rooms"),
        title,
        this.#roomActions,
      ),
      this.#banner,
      this.#notice,
      h("div", { class: "conversation-body" }, h("div", { class: "thread" }, this.#scroller, this.#composer), this.#members.el),
    );
    this.#banner.hidden = true;
    this.#renderRoomActions();

    this.#olderButton.addEventListener("click", () => void this.#loadOlder());
    this.#scroller.addEventListener("scroll", () => {
      if (this.#scroller.scrollTop < NEAR_TOP_PX) void this.#loadOlder();
    });
    this.#composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#submit();
      }
    });
    this.#input.addEventListener("input", () => this.#autosize());
  }

  /** Loads the newest page, then goes live from its end. */
  async open(): Promise<void> {
    void this.#members.refresh();
    let page;
    try {
      page = await this.chat.getHistory(this.roomId, { limit: PAGE_SIZE });
    } catch (error) {
      return this.#unavailable(error);
    }
    if (this.#closed) return;
    this.#prepend(page.messages);
    this.#cursor = page.nextCursor;
    this.#updateHistoryEnds();
    this.#scrollToBottom();
    this.#input.focus();
    void this.#fillViewport();
    try {
      this.#subscription = await this.chat.subscribe(
        this.roomId,
        {
          onMessage: (message) => this.#onMessage(message),
          onMessageEdited: (message) => this.#byId.get(message.id)?.update(message),
          onMessageDeleted: (info) => this.#tombstone(info.messageId, info.deletedBy, info.deletedTs),
          onRoomDeleted: (info) => this.#roomDeleted(info.deletedBy),
          onEvent: (event) => {
            if (event.type === "member_joined" || event.type === "member_left") void this.#members.refresh();
            this.hooks.onActivity(this.roomId);
          },
          onConnectionState: (state) => this.#connection(state),
          onReset: () => void this.#reload(),
          onError: (error) => this.#unavailable(error),
        },
        { after: { epoch: page.epoch, seq: page.headSeq } },
      );
      if (this.#closed) this.#subscription.close();
    } catch (error) {
      if (!this.#closed) this.#unavailable(error);
    }
  }

  focusComposer(): void {
    this.#input.focus();
  }

  close(): void {
    this.#closed = true;
    this.#subscription?.close();
    for (const pending of this.#pending.values()) pending.controller?.abort();
  }

  // ---- history ---------------------------------------------------------------

  /** Adds messages older than those shown (or the first page), skipping any already shown. */
  #prepend(messages: Message[]): void {
    const fresh = messages.filter((m) => !this.#bySeq.has(m.seq));
    const first = this.#log.firstElementChild;
    for (const message of fresh) this.#log.insertBefore(this.#track(new MessageView(message, this.me, this.#actions)).el, first);
  }

  async #loadOlder(): Promise<void> {
    if (this.#loadingOlder || !this.#cursor || this.#closed) return;
    this.#loadingOlder = true;
    this.#olderButton.disabled = true;
    this.#olderButton.textContent = "Loading older messages…";
    try {
      const page = await this.chat.getHistory(this.roomId, { cursor: this.#cursor, limit: PAGE_SIZE });
      // Keep what the reader is looking at in place while the page goes in above it.
      const before = this.#scroller.scrollHeight - this.#scroller.scrollTop;
      this.#prepend(page.messages);
      this.#cursor = page.nextCursor;
      this.#scroller.scrollTop = this.#scroller.scrollHeight - before;
    } catch {
      // A network blip: the button stays, scrolling up again retries.
    } finally {
      this.#loadingOlder = false;
      this.#olderButton.disabled = false;
      this.#olderButton.textContent = "Load older messages";
      this.#updateHistoryEnds();
    }
  }

  /** While the messages do not fill the view there is nothing to scroll: load older pages until they do. */
  async #fillViewport(): Promise<void> {
    while (this.#cursor && !this.#closed && this.#scroller.scrollHeight <= this.#scroller.clientHeight + NEAR_TOP_PX) {
      const cursor = this.#cursor;
      await this.#loadOlder();
      if (this.#cursor === cursor) return;
    }
  }

  #updateHistoryEnds(): void {
    this.#olderButton.hidden = this.#cursor === null;
    this.#start.hidden = this.#cursor !== null;
  }

  /** The room's history was reset: start over from its newest page. */
  async #reload(): Promise<void> {
    this.#bySeq.clear();
    this.#byId.clear();
    replaceChildren(this.#log);
    const page = await this.chat.getHistory(this.roomId, { limit: PAGE_SIZE }).catch(() => null);
    if (!page || this.#closed) return;
    this.#prepend(page.messages);
    this.#cursor = page.nextCursor;
    this.#updateHistoryEnds();
    this.#scrollToBottom();
  }

  // ---- live ------------------------------------------------------------------

  #track(view: MessageView): MessageView {
    const message = view.message;
    if (message) {
      this.#bySeq.set(message.seq, view);
      this.#byId.set(message.id, view);
    }
    return view;
  }

  #onMessage(message: Message): void {
    if (message.clientId && this.#pending.has(message.clientId)) return this.#stored(message.clientId, message);
    if (this.#bySeq.has(message.seq)) return;
    const stick = this.#nearBottom();
    this.#insertInOrder(this.#track(new MessageView(message, this.me, this.#actions)));
    if (stick) this.#scrollToBottom();
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

  #tombstone(messageId: string, deletedBy: string, deletedTs: string): void {
    const view = this.#byId.get(messageId);
    const message = view?.message;
    if (view && message) view.update({ ...message, content: "", deleted: true, deletedBy, deletedTs });
  }

  #connection(state: "connecting" | "live" | "offline"): void {
    if (state === "live") {
      this.#wasLive = true;
      this.#banner.hidden = true;
      this.#banner.textContent = "";
      this.el.classList.remove("reconnecting");
      return;
    }
    if (!this.#wasLive) return;
    this.#banner.hidden = false;
    this.#banner.textContent = "Connection lost. Reconnecting…";
    this.el.classList.add("reconnecting");
  }

  // ---- sending ---------------------------------------------------------------

  #submit(): void {
    const content = this.#input.value;
    if (!content.trim()) return;
    this.#input.value = "";
    this.#autosize();
    const clientId = crypto.randomUUID();
    const view = new MessageView(null, this.me, this.#actions, { clientId, content, ts: new Date().toISOString() });
    const pending: PendingSend = { clientId, content, view, controller: null };
    this.#pending.set(clientId, pending);
    this.#log.appendChild(view.el);
    this.#scrollToBottom();
    this.#attempt(pending);
  }

  #attempt(pending: PendingSend): void {
    const controller = new AbortController();
    pending.controller = controller;
    pending.view.setDelivery("sending");
    const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
    this.chat
      .sendMessage(this.roomId, pending.content, { clientId: pending.clientId, signal: controller.signal })
      .then((message) => this.#stored(pending.clientId, message))
      .catch((error: unknown) => {
        if (this.#closed || !this.#pending.has(pending.clientId)) return;
        const reason =
          error instanceof ChatError && error.code === "cancelled"
            ? "The server did not answer in time."
            : error instanceof ChatError && error.code === "content_too_large"
              ? "The message is too long."
              : describe(error);
        pending.view.setDelivery("failed", reason);
      })
      .finally(() => clearTimeout(timer));
  }

  /** The server has the message: the pending entry becomes the stored one, in seq order. */
  #stored(clientId: string, message: Message): void {
    const pending = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    const existing = this.#bySeq.get(message.seq);
    if (existing) {
      if (pending && pending.view !== existing) pending.view.el.remove();
      existing.setDelivery("sent");
      return;
    }
    if (!pending) return;
    const view = pending.view;
    view.update(message);
    view.setDelivery("sent");
    view.el.remove();
    this.#insertInOrder(this.#track(view));
    this.hooks.onActivity(this.roomId);
  }

  readonly #actions = {
    edit: async (view: MessageView, content: string) => {
      const id = view.message?.id;
      if (!id) return;
      view.update(await this.chat.editMessage(this.roomId, id, content));
    },
    remove: async (view: MessageView) => {
      const id = view.message?.id;
      if (!id) return;
      view.update(await this.chat.deleteMessage(this.roomId, id));
      this.#input.focus();
    },
    retry: (view: MessageView) => {
      const clientId = view.el.dataset.clientId;
      const pending = clientId ? this.#pending.get(clientId) : undefined;
      if (pending) this.#attempt(pending);
    },
  };

  // ---- the conversation itself -----------------------------------------------

  #renderRoomActions(): void {
    const canDelete = !this.summary || this.summary.kind === "direct" || this.summary.role !== "member";
    replaceChildren(
      this.#roomActions,
      canDelete ? h("button", { type: "button", class: "danger secondary", onclick: () => this.#confirmRoomDelete() }, "Delete conversation") : null,
    );
  }

  #confirmRoomDelete(): void {
    const yes = h("button", { type: "button", class: "danger" }, "Delete for everyone");
    const no = h("button", { type: "button", class: "secondary" }, "Cancel");
    no.addEventListener("click", () => {
      this.#notice.hidden = true;
      this.#roomActions.querySelector("button")?.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        const result = await this.chat.deleteRoom(this.roomId);
        this.#roomDeleted(this.me, result.restorableUntil);
      } catch (error) {
        this.#showNotice(h("p", { role: "alert", text: `Could not delete the conversation: ${describe(error)}` }), no);
      }
    });
    this.#showNotice(h("p", { text: "Delete this conversation and its history for every member?" }), yes, no);
    no.focus();
  }

  #roomDeleted(deletedBy?: string, restorableUntil?: string): void {
    this.#subscription?.close();
    this.#composer.hidden = true;
    replaceChildren(this.#roomActions);
    this.#banner.hidden = true;
    const who = deletedBy === this.me ? "You deleted this conversation." : deletedBy ? `${deletedBy} deleted this conversation.` : "This conversation was deleted.";
    const undo =
      deletedBy === this.me && restorableUntil
        ? h("button", { type: "button", class: "secondary", onclick: async () => {
            try {
              await this.chat.restoreRoom(this.roomId);
              this.hooks.onRestored(this.roomId);
            } catch (error) {
              this.#showNotice(h("p", { role: "alert", text: `Could not restore it: ${describe(error)}` }));
            }
          } }, "Undo")
        : null;
    this.#showNotice(h("p", { role: "alert", text: who }), undo);
    undo?.focus();
    this.hooks.onGone(this.roomId);
  }

  #unavailable(error: unknown): void {
    if (this.#closed) return;
    if (error instanceof ChatError && error.code === "room_deleted") return this.#roomDeleted();
    this.#composer.hidden = true;
    this.#banner.hidden = true;
    const text =
      error instanceof ChatError && error.code === "not_member"
        ? "You are not a member of this conversation."
        : error instanceof ChatError && error.code === "room_not_found"
          ? "There is no conversation with this name."
          : `Could not open this conversation: ${describe(error)}`;
    this.#showNotice(h("p", { role: "alert", text }));
    if (error instanceof ChatError && (error.code === "not_member" || error.code === "room_not_found")) this.hooks.onGone(this.roomId);
  }

  #showNotice(...children: (HTMLElement | null)[]): void {
    this.#notice.hidden = false;
    replaceChildren(this.#notice, ...children);
  }

  // ---- layout ----------------------------------------------------------------

  #nearBottom(): boolean {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  #scrollToBottom(): void {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }

  #autosize(): void {
    this.#input.style.height = "auto";
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 160)}px`;
  }
}
