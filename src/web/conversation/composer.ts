/**
 * Writing: the message box with its attachments (picked, dropped on the
 * conversation or pasted), typing notices to the others while the user
 * types, and each send in flight with its delivery state ("Sending…",
 * "Sent", or failed with Retry).
 *
 * A send in flight is keyed by its `clientId` until the server's copy (from
 * the ack or the live stream, whichever comes first) takes its place in the
 * timeline; a retry reuses the clientId, so it never stores a second copy.
 */
import type { Attachment, ChatClient, Message } from "../../client";
import { h } from "../dom";
import { errorText } from "../errors";
import { type MessageActions, MessageView } from "../message-view";
import { UploadTray } from "../uploads";
import type { Timeline } from "./timeline";

/** A send not stored after this long is shown as failed, with Retry (the retry reuses its clientId). */
const SEND_TIMEOUT_MS = 10_000;
/**
 * Typing notices go out at most this often while the user types. The room
 * passes one per user every 2 s and each lasts 10 s: every 3 s keeps the
 * others' indicator on without notices the room would drop.
 */
const TYPING_EVERY_MS = 3_000;
/** The message box grows with its text up to this height, then scrolls. */
const MAX_INPUT_PX = 160;

interface PendingSend {
  clientId: string;
  content: string;
  view: MessageView;
  controller: AbortController | null;
  attachments: Attachment[];
}

export interface ComposerHooks {
  /** A send of ours was stored (its view may now carry "Seen by"). */
  onStored(): void;
  /** A send of ours was stored by this ack (the room list may want to refresh). */
  onActivity(): void;
}

export class Composer {
  readonly el: HTMLFormElement;
  readonly #input = h("textarea", { id: "message-input", "aria-label": "Message", rows: 1, placeholder: "Write a message", autocomplete: "off" });
  readonly #sendButton = h("button", { type: "submit", class: "send" }, "Send");
  readonly #uploads: UploadTray;
  readonly #pending = new Map<string, PendingSend>();
  #typingSentAt = 0;
  /** Send was pressed while files were still uploading. */
  #sendWhenUploaded = false;
  #closed = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
    private readonly timeline: Timeline,
    private readonly actions: MessageActions,
    private readonly hooks: ComposerHooks,
  ) {
    this.#uploads = new UploadTray(chat, roomId, () => {
      // Send was pressed while files were uploading: it goes now, unless one failed.
      if (!this.#sendWhenUploaded) return;
      this.#sendWhenUploaded = false;
      this.#submit();
    });
    this.el = h(
      "form",
      { class: "composer" },
      this.#uploads.el,
      h("div", { class: "composer-row" }, this.#uploads.button, this.#uploads.input, this.#input, this.#sendButton),
    );
    this.#input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      this.#uploads.add(files);
    });
    this.el.addEventListener("submit", (event) => {
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
  }

  /** Files dropped anywhere on `area` are attached (while the composer shows). */
  acceptDrops(area: HTMLElement): void {
    area.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files") && !this.el.hidden) event.preventDefault();
    });
    area.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files.length || this.el.hidden) return;
      event.preventDefault();
      this.#uploads.add([...event.dataTransfer.files]);
    });
  }

  focus(): void {
    this.#input.focus();
  }

  /** The room can no longer take messages here. */
  hide(): void {
    this.el.hidden = true;
  }

  /** Whether `clientId` is one of our sends still waiting for the server. */
  isPending(clientId: string | undefined): clientId is string {
    return clientId !== undefined && this.#pending.has(clientId);
  }

  /** The server has the message: the pending entry becomes the stored one, in seq order. */
  stored(clientId: string, message: Message): void {
    const pending = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    const existing = this.timeline.bySeq(message.seq);
    if (existing) {
      if (pending && pending.view !== existing) pending.view.el.remove();
      existing.setDelivery("sent");
      this.hooks.onStored();
      return;
    }
    if (!pending) return;
    const view = pending.view;
    view.update(message);
    view.setDelivery("sent");
    this.timeline.place(view);
    this.hooks.onStored();
    this.hooks.onActivity();
  }

  /** Retry on a failed send: the same clientId again. */
  retry(view: MessageView): void {
    const clientId = view.el.dataset.clientId;
    const pending = clientId ? this.#pending.get(clientId) : undefined;
    if (pending) this.#attempt(pending);
  }

  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.controller?.abort();
    this.#uploads.close();
  }

  /** The user is typing: tell the others, at most every few seconds. */
  #sendTyping(): void {
    if (!this.#input.value.trim() || this.#closed) return;
    const now = Date.now();
    if (now - this.#typingSentAt < TYPING_EVERY_MS) return;
    this.#typingSentAt = now;
    this.chat.setTyping(this.roomId).catch(() => undefined);
  }

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
    const view = new MessageView(null, this.me, this.actions, { clientId, content, ts: new Date().toISOString(), attachments });
    const pending: PendingSend = { clientId, content, view, controller: null, attachments };
    this.#pending.set(clientId, pending);
    this.timeline.appendPending(view);
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
      .then((message) => this.stored(pending.clientId, message))
      .catch((error: unknown) => {
        if (this.#closed || !this.#pending.has(pending.clientId)) return;
        pending.view.setDelivery("failed", errorText("send", error));
      })
      .finally(() => clearTimeout(timer));
  }

  #autosize(): void {
    this.#input.style.height = "auto";
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, MAX_INPUT_PX)}px`;
  }
}
