/**
 * The member list of the open conversation, from `activeUsers` (member ids in
 * join order), refreshed when someone joins or leaves. Each member is one
 * list item built by `#item`, keyed by user id in `#items`, so per-member
 * state (presence, last seen, typing) can be added to that item and updated
 * in place by user id.
 */
import type { ChatClient } from "../client";
import { h, replaceChildren } from "./dom";

export class MembersPanel {
  readonly el: HTMLElement;
  readonly #list = h("ul", { class: "member-list" });
  readonly #count = h("span", { class: "count" });
  readonly #items = new Map<string, HTMLLIElement>();
  #loading: Promise<void> | null = null;

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
  ) {
    this.el = h("aside", { class: "members", "aria-label": "Members" }, h("h3", {}, "Members ", this.#count), this.#list);
  }

  /** Reloads the list (coalesced: one request at a time). */
  refresh(): Promise<void> {
    this.#loading ??= this.chat
      .activeUsers(this.roomId)
      .then((users) => this.#show(users))
      .catch(() => undefined)
      .finally(() => (this.#loading = null));
    return this.#loading;
  }

  #show(users: string[]): void {
    this.#count.textContent = `(${users.length})`;
    this.#items.clear();
    replaceChildren(this.#list, ...users.map((user) => this.#item(user)));
  }

  #item(userId: string): HTMLLIElement {
    const item = h("li", { class: "member", "data-user": userId }, h("span", { class: "member-name", text: userId }), userId === this.me ? h("span", { class: "member-you", text: " (you)" }) : null);
    this.#items.set(userId, item);
    return item;
  }
}
