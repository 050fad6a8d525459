/**
 * One message in the conversation: sender, time, text (links made clickable,
 * everything else literal), its delivery state while it is ours and in
 * flight, and the edit/delete controls on our own messages.
 *
 * The element is laid out as header / body / footer so that later features
 * attach without reshaping it: attachments render after the body (a media
 * block per attachment), read receipts in the footer next to the delivery
 * state.
 */
import type { Attachment, Message } from "../client";
import { type MediaUrlSource, attachmentList } from "./attachments";
import { h, formatTime, replaceChildren } from "./dom";
import { describe } from "./errors";
import { linkify } from "./linkify";

export type DeliveryState = "sending" | "sent" | "failed";

export interface MessageActions {
  edit(view: MessageView, content: string): Promise<void>;
  remove(view: MessageView): Promise<void>;
  retry(view: MessageView): void;
  /** A URL for an attachment that works in an <img> or a link. */
  mediaUrl: MediaUrlSource;
}

export class MessageView {
  readonly el: HTMLLIElement;
  #message: Message | null;
  #content: string;
  readonly #body = h("div", { class: "msg-body" });
  readonly #edited = h("span", { class: "msg-edited" });
  readonly #status = h("span", { class: "msg-status" });
  readonly #seen = h("span", { class: "msg-seen" });
  readonly #attachments = h("div", { class: "msg-attachment-block" });
  /** Media ids of the attachments shown, so a re-render keeps loaded previews. */
  #shownMedia = "";
  readonly #controls = h("div", { class: "msg-controls" });
  readonly #error = h("p", { class: "msg-error", role: "alert", hidden: true });
  #state: DeliveryState | null = null;
  #pendingAttachments: Attachment[];
  #editing = false;

  /** `message` is null for a send not yet stored (then `pending` describes it). */
  constructor(
    message: Message | null,
    private readonly me: string,
    private readonly actions: MessageActions,
    pending?: { clientId: string; content: string; ts: string; attachments?: Attachment[] },
  ) {
    this.#message = message;
    this.#content = message?.content ?? pending?.content ?? "";
    this.#pendingAttachments = pending?.attachments ?? [];
    const sender = message?.sender ?? me;
    const ts = message?.ts ?? pending?.ts ?? new Date().toISOString();
    this.el = h(
      "li",
      { class: sender === me ? "msg mine" : "msg", "data-sender": sender },
      h(
        "div",
        { class: "msg-head" },
        h("span", { class: "msg-sender", text: sender }),
        h("time", { class: "msg-time", datetime: ts, title: new Date(ts).toLocaleString(), text: formatTime(ts) }),
      ),
      this.#body,
      this.#attachments,
      h("div", { class: "msg-foot" }, this.#edited, this.#status, this.#seen, this.#controls),
      this.#error,
    );
    if (pending) this.el.dataset.clientId = pending.clientId;
    this.#render();
  }

  get message(): Message | null {
    return this.#message;
  }

  get seq(): number | null {
    return this.#message?.seq ?? null;
  }

  get content(): string {
    return this.#content;
  }

  /** A new state of the stored message (stored at last, edited, or deleted). */
  update(message: Message): void {
    this.#message = message;
    this.#content = message.content;
    this.el.dataset.seq = String(message.seq);
    this.el.dataset.id = message.id;
    if (message.deleted) this.#editing = false;
    this.#render();
  }

  setDelivery(state: DeliveryState | null, reason?: string): void {
    this.#state = state;
    this.#render();
    this.#showError(state === "failed" ? (reason ?? null) : null);
  }

  /** Read receipts on this message: the other members who have read up to it. */
  setSeenBy(users: string[]): void {
    const text = users.length === 0 ? "" : `Seen by ${users.length > 3 ? `${users.slice(0, 3).join(", ")} and ${users.length - 3} more` : users.join(", ")}`;
    if (this.#seen.textContent !== text) this.#seen.textContent = text;
    this.#seen.title = users.join(", ");
  }

  #showError(text: string | null): void {
    this.#error.hidden = text === null;
    this.#error.textContent = text ?? "";
  }

  #render(): void {
    const m = this.#message;
    if (m) {
      this.el.dataset.seq = String(m.seq);
      this.el.dataset.id = m.id;
    }
    this.el.classList.toggle("deleted", m?.deleted === true);
    this.el.classList.toggle("pending", this.#state === "sending" || this.#state === "failed");
    if (m?.deleted) {
      replaceChildren(this.#body, h("em", { text: "This message was deleted." }));
      this.#body.hidden = false;
      replaceChildren(this.#attachments);
      this.#shownMedia = "";
      this.#seen.textContent = "";
      this.#edited.textContent = "";
      this.#status.textContent = "";
      replaceChildren(this.#controls);
      return;
    }
    if (!this.#editing) replaceChildren(this.#body, ...renderText(this.#content));
    // A message may be only attachments: then there is no text to show.
    this.#body.hidden = !this.#editing && this.#content === "" && this.#attachmentsOf().length > 0;
    this.#renderAttachments();
    this.#edited.textContent = m?.editedTs ? "(edited)" : "";
    this.#status.textContent = this.#state === "sending" ? "Sending…" : this.#state === "sent" ? "Sent" : this.#state === "failed" ? "Failed to send" : "";
    this.el.dataset.state = this.#state ?? "";
    replaceChildren(this.#controls, ...this.#controlButtons());
  }

  #attachmentsOf(): Attachment[] {
    return this.#message?.attachments ?? this.#pendingAttachments;
  }

  #renderAttachments(): void {
    const attachments = this.#attachmentsOf();
    const key = attachments.map((a) => a.mediaId).join(" ");
    if (key === this.#shownMedia) return;
    this.#shownMedia = key;
    replaceChildren(this.#attachments, attachments.length > 0 ? attachmentList(attachments, this.actions.mediaUrl) : null);
  }

  #controlButtons(): HTMLElement[] {
    if (this.#state === "failed") {
      return [h("button", { type: "button", class: "link-button", onclick: () => this.actions.retry(this) }, "Retry")];
    }
    const m = this.#message;
    if (!m || m.sender !== this.me || m.deleted || this.#editing) return [];
    return [
      h("button", { type: "button", class: "link-button", onclick: () => this.#startEdit() }, "Edit"),
      h("button", { type: "button", class: "link-button", onclick: () => this.#confirmDelete() }, "Delete"),
    ];
  }

  #startEdit(): void {
    this.#editing = true;
    const box = h("textarea", { class: "edit-box", "aria-label": "Edited text", rows: 2 });
    box.value = this.#content;
    const save = async () => {
      // A message with attachments may lose its text; one without must keep some.
      const content = box.value.trim() ? box.value : "";
      if (!content && this.#attachmentsOf().length === 0) return;
      saveButton.disabled = true;
      try {
        await this.actions.edit(this, content);
        this.#editing = false;
        this.#showError(null);
        this.#render();
        this.#focusControls();
      } catch (error) {
        saveButton.disabled = false;
        this.#showError(`Could not save the edit: ${describe(error)}`);
      }
    };
    const cancel = () => {
      this.#editing = false;
      this.#showError(null);
      this.#render();
      this.#focusControls();
    };
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
    });
    const saveButton = h("button", { type: "button", onclick: () => void save() }, "Save");
    replaceChildren(this.#body, box, h("div", { class: "edit-actions" }, saveButton, h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel")));
    replaceChildren(this.#controls);
    box.focus();
  }

  #confirmDelete(): void {
    const yes = h("button", { type: "button", class: "danger", onclick: async () => {
      yes.disabled = true;
      try {
        await this.actions.remove(this);
        this.#showError(null);
      } catch (error) {
        this.#showError(`Could not delete: ${describe(error)}`);
        this.#render();
      }
    } }, "Delete for everyone");
    const no = h("button", { type: "button", class: "secondary", onclick: () => {
      this.#render();
      this.#focusControls();
    } }, "Cancel");
    replaceChildren(this.#controls, h("span", { class: "confirm-text", text: "Delete this message?" }), yes, no);
    no.focus();
  }

  #focusControls(): void {
    this.#controls.querySelector("button")?.focus();
  }
}

/** Message text as nodes: literal text, with http(s) URLs as links that open in a new tab. */
export function renderText(text: string): Node[] {
  return linkify(text).map((segment) =>
    segment.kind === "text"
      ? document.createTextNode(segment.text)
      : h("a", { href: segment.href, target: "_blank", rel: "noopener noreferrer" }, segment.text),
  );
}
