/**
 * What happens to the conversation as a whole: "Delete conversation" (with
 * its confirmation and, for the one who deleted it, Undo), the notice shown
 * when it was deleted by someone else, and the notice shown when it cannot be
 * opened (not a member, no such room, or another failure).
 */
import { ChatError, type ChatClient, type RoomSummary } from "../../client";
import { h, replaceChildren } from "../dom";
import { describe, knownText } from "../errors";

export interface RoomActionHooks {
  /** The conversation cannot be used here any more: hide the composer and the connection banner. */
  halt(): void;
  /** Stop the live subscription (the room was deleted). */
  closeFeed(): void;
  /** The room is gone for us (deleted, or we are no longer a member). */
  onGone(): void;
  onRestored(): void;
}

export class RoomActions {
  /** The buttons in the conversation's header. */
  readonly el = h("div", { class: "room-actions" });
  /** Confirmations and outcomes, above the thread. */
  readonly notice = h("div", { class: "notice", hidden: true });
  #closed = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
    summary: RoomSummary | undefined,
    private readonly hooks: RoomActionHooks,
  ) {
    // Group rooms: owners and admins may delete; either side of a direct conversation may. Unknown rooms: let the server decide.
    const canDelete = !summary || summary.kind === "direct" || summary.role !== "member";
    replaceChildren(
      this.el,
      canDelete ? h("button", { type: "button", class: "danger secondary", onclick: () => this.#confirmRoomDelete() }, "Delete conversation") : null,
    );
  }

  close(): void {
    this.#closed = true;
  }

  /** The room was deleted (by us, live, or while we were away). */
  deleted(deletedBy?: string, restorableUntil?: string): void {
    this.hooks.closeFeed();
    this.hooks.halt();
    replaceChildren(this.el);
    const who = deletedBy === this.me ? "You deleted this conversation." : deletedBy ? `${deletedBy} deleted this conversation.` : "This conversation was deleted.";
    const undo =
      deletedBy === this.me && restorableUntil
        ? h("button", { type: "button", class: "secondary", onclick: async () => {
            try {
              await this.chat.restoreRoom(this.roomId);
              this.hooks.onRestored();
            } catch (error) {
              this.#showNotice(h("p", { role: "alert", text: `Could not restore it: ${describe(error)}` }));
            }
          } }, "Undo")
        : null;
    this.#showNotice(h("p", { role: "alert", text: who }), undo);
    undo?.focus();
    this.hooks.onGone();
  }

  /** The conversation could not be opened, or its subscription ended for good. */
  unavailable(error: unknown): void {
    if (this.#closed) return;
    if (error instanceof ChatError && error.code === "room_deleted") return this.deleted();
    this.hooks.halt();
    const text = knownText("open", error) ?? `Could not open this conversation: ${describe(error)}`;
    this.#showNotice(h("p", { role: "alert", text }));
    if (error instanceof ChatError && (error.code === "not_member" || error.code === "room_not_found")) this.hooks.onGone();
  }

  #confirmRoomDelete(): void {
    const yes = h("button", { type: "button", class: "danger" }, "Delete for everyone");
    const no = h("button", { type: "button", class: "secondary" }, "Cancel");
    no.addEventListener("click", () => {
      this.notice.hidden = true;
      this.el.querySelector("button")?.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        const result = await this.chat.deleteRoom(this.roomId);
        this.deleted(this.me, result.restorableUntil);
      } catch (error) {
        this.#showNotice(h("p", { role: "alert", text: `Could not delete the conversation: ${describe(error)}` }), no);
      }
    });
    this.#showNotice(h("p", { text: "Delete this conversation and its history for every member?" }), yes, no);
    no.focus();
  }

  #showNotice(...children: (HTMLElement | null)[]): void {
    this.notice.hidden = false;
    replaceChildren(this.notice, ...children);
  }
}
