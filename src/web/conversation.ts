/**
 * The open conversation: history that pages older messages in as you scroll
 * up, live events from a subscription that starts exactly where the first
 * history page ended (its `headSeq`, so nothing is missed or shown twice),
 * the composer with per-message delivery state and attachments, the
 * reconnect banner, the member list with presence, the typing indicator, read
 * receipts ("Seen by" on your latest message; the room is marked read while
 * the conversation is on screen), and deletion of the whole conversation.
 *
 * Messages are keyed by `seq`; a send in flight is keyed by its `clientId`
 * until the server's copy (from the ack or the live stream, whichever comes
 * first) takes its place.
 */
import { type Attachment, ChatError, type ChatClient, type Message, type RoomSummary, type Subscription } from "../client";
import { h, replaceChildren } from "./dom";
import { MembersPanel } from "./members";
import { MessageView, describe } from "./message-view";
import { UploadTray } from "./uploads";

const PAGE_SIZE = 50;
/** A send not stored after this long is shown as failed, with Retry (the retry reuses its clientId). */
const SEND_TIMEOUT_MS = 10_000;
/** Load the next older page when the view is this close to the top. */
const NEAR_TOP_PX = 150;
/** Typing notices go out at most this often while the user types (the server passes one per 2 s; they last 10 s). */
const TYPING_EVERY_MS = 3_000;
/** Reads are coalesced: one mark per this interval while messages stream in. */
const READ_DELAY_MS = 300;
/** Signed media URLs last about an hour; reuse one for this long. */
const MEDIA_URL_REUSE_MS = 30 * 60_000;

export interface ConversationHooks {
  /** Something happened in the room (the room list may want to refresh). */
  onActivity(roomId: string): void;
  /** The room is gone for us (deleted, or we are no longer a member). */
  onGone(roomId: string): void;
  onRestored(roomId: string): void;
  /** Mobile layout: go back to the room list. */
  onBack(): void;
  displayName(roomId: string): string;
  /** The room was marked read up to its latest event (its unread badge can clear). */
  onRead(roomId: string): void;
  /** Start (or open) the direct conversation with a member. */
  openDirect(userId: string): void;
}

interface PendingSend {
  clientId: string;
  content: string;
  view: MessageView;
  controller: AbortController | null;
  attachments: Attachment[];
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
  readonly #typingLine = h("div", { class: "typing-indicator", "aria-live": "polite" });
  readonly #uploads: UploadTray;
  /** Who is typing here now, in the order they started. */
  readonly #typing = new Set<string>();
  #typingSentAt = 0;
  /** Send was pressed while files were still uploading. */
  #sendWhenUploaded = false;
  /** Read positions of members (receipts), by user id. */
  readonly #receipts = new Map<string, number>();
  #seenView: MessageView | null = null;
  /** The highest seq this view knows of, and the highest it has marked read. */
  #headSeq = 0;
  #readSeq = 0;
  #readTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #mediaUrls = new Map<string, { at: number; url: Promise<string> }>();
  #atBottom = true;
  readonly #onVisibility = () => {
    if (document.visibilityState === "visible") this.#scheduleRead();
  };
  readonly #roomActions = h("div", { class: "room-actions" });
  readonly #members: MembersPanel;
  readonly #membersToggle = h("button", { type: "button", class: "members-toggle secondary", "aria-expanded": "false" }, "Members");
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
    this.#members = new MembersPanel(chat, roomId, me, roomId.startsWith("dm.") ? null : (userId) => hooks.openDirect(userId));
    this.#uploads = new UploadTray(chat, roomId, () => {
      // Send was pressed while files were uploading: it goes now, unless one failed.
      if (!this.#sendWhenUploaded) return;
      this.#sendWhenUploaded = false;
      this.#submit();
    });
    const title = h("h2", { id: "conversation-title", text: hooks.displayName(roomId) });
    this.#scroller = h(
      "div",
      { class: "scroller", tabindex: 0, role: "log", "aria-label": "Conversation history", "aria-live": "polite", "aria-relevant": "additions" },
      this.#start,
      this.#olderButton,
      this.#log,
    );
    this.#composer = h(
      "form",
      { class: "composer" },
      this.#uploads.el,
      h("div", { class: "composer-row" }, this.#uploads.button, this.#uploads.input, this.#input, this.#sendButton),
    );
    this.el = h(
      "section",
      { class: "conversation", "aria-labelledby": "conversation-title" },
      h(
        "header",
        { class: "conversation-head" },
        h("button", { type: "button", class: "back secondary", onclick: () => hooks.onBack() }, "Back to rooms"),
        title,
        this.#membersToggle,
        this.#roomActions,
      ),
      this.#banner,
      this.#notice,
      h("div", { class: "conversation-body" }, h("div", { class: "thread" }, this.#scroller, this.#typingLine, this.#composer), this.#members.el),
    );
    this.#banner.hidden = true;
    this.#renderRoomActions();
    // Phones have no room for the member list beside the thread: a button shows it over the thread.
    this.#members.el.id = "members-panel";
    this.#membersToggle.setAttribute("aria-controls", "members-panel");
    this.#membersToggle.addEventListener("click", () => {
      const open = this.#membersToggle.getAttribute("aria-expanded") !== "true";
      this.#membersToggle.setAttribute("aria-expanded", String(open));
      this.#members.el.classList.toggle("open", open);
    });

    this.#olderButton.addEventListener("click", () => void this.#loadOlder());
    this.#scroller.addEventListener("scroll", () => {
      this.#atBottom = this.#nearBottom();
      if (this.#scroller.scrollTop < NEAR_TOP_PX) void this.#loadOlder();
    });
    // An image preview that loads grows its message: keep the newest in view if the reader was there.
    this.#log.addEventListener(
      "load",
      () => {
        if (this.#atBottom) this.#scrollToBottom();
      },
      true,
    );
    // Files dropped on the conversation or pasted into the message box are attached.
    this.el.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files") && !this.#composer.hidden) event.preventDefault();
    });
    this.el.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files.length || this.#composer.hidden) return;
      event.preventDefault();
      this.#uploads.add([...event.dataTransfer.files]);
    });
    this.#input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      this.#uploads.add(files);
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
    this.#input.addEventListener("input", () => {
      this.#autosize();
      this.#sendTyping();
    });
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  /** Loads the newest page, then goes live from its end. */
  async open(): Promise<void> {
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
    this.#headSeq = Math.max(this.#headSeq, page.headSeq);
    this.#scheduleRead();
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
            this.#headSeq = Math.max(this.#headSeq, event.seq);
            this.#scheduleRead();
            this.hooks.onActivity(this.roomId);
          },
          onPresence: (presence) => this.#members.setPresence(presence),
          onTyping: ({ userId, typing }) => this.#setTyping(userId, typing),
          onReceipt: ({ userId, seq }) => this.#receipt(userId, seq),
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
    // A read still waiting for its coalescing delay is sent now: leaving at once must not leave the room unread.
    if (this.#readTimer) {
      clearTimeout(this.#readTimer);
      this.#readTimer = null;
      this.#markRead();
    }
    this.#closed = true;
    this.#subscription?.close();
    for (const pending of this.#pending.values()) pending.controller?.abort();
    this.#uploads.close();
    document.removeEventListener("visibilitychange", this.#onVisibility);
  }

  // ---- typing, receipts, reads -------------------------------------------------

  /** The user is typing: tell the others, at most every few seconds. */
  #sendTyping(): void {
    if (!this.#input.value.trim() || this.#closed) return;
    const now = Date.now();
    if (now - this.#typingSentAt < TYPING_EVERY_MS) return;
    this.#typingSentAt = now;
    this.chat.setTyping(this.roomId).catch(() => undefined);
  }

  #setTyping(userId: string, typing: boolean): void {
    if (userId === this.me) return;
    if (typing) this.#typing.add(userId);
    else this.#typing.delete(userId);
    this.#members.setTyping(userId, typing);
    const names = [...this.#typing];
    this.#typingLine.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
  }

  async #loadReceipts(): Promise<void> {
    try {
      for (const { userId, seq } of await this.chat.receipts(this.roomId)) this.#receipt(userId, seq);
    } catch {
      // Receipts are a nicety: live ones still arrive.
    }
  }

  #receipt(userId: string, seq: number): void {
    if (userId === this.me) return;
    if ((this.#receipts.get(userId) ?? 0) >= seq) return;
    this.#receipts.set(userId, seq);
    this.#updateSeen();
  }

  /** "Seen by …" goes on our latest stored message, naming the members who have read up to it. */
  #updateSeen(): void {
    let latest: MessageView | null = null;
    for (const view of this.#bySeq.values()) {
      const m = view.message;
      if (m && m.sender === this.me && !m.deleted && (!latest || m.seq > (latest.seq ?? 0))) latest = view;
    }
    if (this.#seenView && this.#seenView !== latest) this.#seenView.setSeenBy([]);
    this.#seenView = latest;
    if (!latest?.message) return;
    const seq = latest.message.seq;
    latest.setSeenBy([...this.#receipts].filter(([, read]) => read >= seq).map(([userId]) => userId));
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
    const seq = Math.max(this.#headSeq, this.#subscription?.lastSeq ?? 0);
    if (seq <= this.#readSeq) return;
    this.#readSeq = seq;
    this.hooks.onRead(this.roomId);
    this.chat.markRead(this.roomId, seq).catch(() => {
      this.#readSeq = 0; // tried again on the next event or visibility change
    });
  }

  /** A signed URL for an attachment, reused while it is fresh (the server hands out the same one within its window). */
  #mediaUrl = (mediaId: string): Promise<string> => {
    const cached = this.#mediaUrls.get(mediaId);
    if (cached && Date.now() - cached.at < MEDIA_URL_REUSE_MS) return cached.url;
    const url = this.chat.mediaUrl(this.roomId, mediaId);
    this.#mediaUrls.set(mediaId, { at: Date.now(), url });
    url.catch(() => this.#mediaUrls.delete(mediaId));
    return url;
  };

  // ---- history ---------------------------------------------------------------

  /** Adds messages older than those shown (or the first page), skipping any already shown. */
  #prepend(messages: Message[]): void {
    const fresh = messages.filter((m) => !this.#bySeq.has(m.seq));
    const first = this.#log.firstElementChild;
    for (const message of fresh) this.#log.insertBefore(this.#track(new MessageView(message, this.me, this.#actions)).el, first);
    if (fresh.some((m) => m.sender === this.me) && this.#receipts.size > 0) this.#updateSeen();
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
    if (message.sender === this.me) this.#updateSeen();
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
    if (view === this.#seenView) this.#updateSeen();
  }

  #connection(state: "connecting" | "live" | "offline"): void {
    if (state === "live") {
      // Presence and receipts are ephemeral frames: those sent before this socket was live are
      // not replayed, so read the current state now (each time it goes live again, too).
      void this.#members.refresh();
      void this.#loadReceipts();
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
    const text = this.#input.value;
    const uploads = this.#uploads.check(); // says in the tray why it is not ready
    this.#sendWhenUploaded = uploads === "uploading";
    if (uploads !== "ready") return;
    const attachments = this.#uploads.attachments;
    if (!text.trim() && attachments.length === 0) return;
    // With attachments the text may be empty; blank text is not sent as a message of spaces.
    const content = text.trim() ? text : "";
    this.#input.value = "";
    this.#uploads.clear();
    this.#autosize();
    this.#typingSentAt = 0;
    const clientId = crypto.randomUUID();
    const view = new MessageView(null, this.me, this.#actions, { clientId, content, ts: new Date().toISOString(), attachments });
    const pending: PendingSend = { clientId, content, view, controller: null, attachments };
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
      .sendMessage(this.roomId, pending.content, {
        clientId: pending.clientId,
        signal: controller.signal,
        attachments: pending.attachments.map((a) => a.mediaId),
      })
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
      this.#updateSeen();
      return;
    }
    if (!pending) return;
    const view = pending.view;
    view.update(message);
    view.setDelivery("sent");
    view.el.remove();
    this.#insertInOrder(this.#track(view));
    this.#updateSeen();
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
    mediaUrl: (mediaId: string) => this.#mediaUrl(mediaId),
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
    this.#atBottom = true;
  }

  #autosize(): void {
    this.#input.style.height = "auto";
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 160)}px`;
  }
}
