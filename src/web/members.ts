/**
 * The member list of the open conversation with each member's presence
 * ("online", or "offline" with when they were last seen), from
 * `chat.presence` (every member, in join order), reloaded when someone joins
 * or leaves and updated in place by the subscription's presence frames. Each
 * member is one list item keyed by user id, so a live frame changes one item.
 *
 * Presence is shown in words, not only by the dot's colour. Who is typing
 * is not kept here: the panel reads it from the room subscription (through
 * `typingUsers`) whenever it draws.
 */
import type { ChatClient } from "../client";
import { formatTime, h, replaceChildren } from "./dom";

export interface PresenceState {
  userId: string;
  online: boolean;
  lastSeen: string | null;
}

interface MemberItem {
  li: HTMLLIElement;
  status: HTMLElement;
  typing: HTMLElement;
}

export class MembersPanel {
  readonly el: HTMLElement;
  readonly #list = h("ul", { class: "member-list" });
  readonly #count = h("span", { class: "count" });
  readonly #items = new Map<string, MemberItem>();
  readonly #presence = new Map<string, PresenceState>();
  /** Live frames that came while a reload was in flight: newer than its answer, so applied after it. */
  #liveDuringLoad: PresenceState[] | null = null;
  #loading: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    private readonly me: string,
    /** The other members typing now (the subscription's list). */
    private readonly typingUsers: () => readonly string[],
    /** Offered on other members: start a direct conversation with them. */
    private readonly message: ((userId: string) => void) | null = null,
  ) {
    this.el = h("aside", { class: "members", "aria-label": "Members" }, h("h3", {}, "Members ", this.#count), this.#list);
  }

  /** Reloads the list (coalesced: one request at a time, and one more if asked meanwhile). */
  refresh(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#liveDuringLoad = [];
    this.#loading = this.chat
      .presence(this.roomId)
      .then((entries) => {
        const live = this.#liveDuringLoad ?? [];
        this.#liveDuringLoad = null;
        this.#show(entries.map((e) => ({ userId: e.userId, online: e.online, lastSeen: e.lastSeen })));
        for (const state of live) this.setPresence(state);
      })
      .catch(() => undefined)
      .finally(() => {
        this.#loading = null;
        this.#liveDuringLoad = null;
        if (this.#again) {
          this.#again = false;
          void this.refresh();
        }
      });
    return this.#loading;
  }

  /** A presence frame: one member came online or went offline. */
  setPresence(state: PresenceState): void {
    this.#liveDuringLoad?.push(state);
    this.#presence.set(state.userId, state);
    const item = this.#items.get(state.userId);
    if (item) this.#renderPresence(state.userId, item);
  }

  /** Someone started or stopped typing: redraw each member's "typing…" from `typingUsers`. */
  renderTyping(): void {
    const typing = new Set(this.typingUsers());
    for (const [userId, item] of this.#items) item.typing.hidden = !typing.has(userId);
  }

  isOnline(userId: string): boolean {
    return this.#presence.get(userId)?.online ?? false;
  }

  #show(entries: PresenceState[]): void {
    this.#count.textContent = `(${entries.length})`;
    this.#items.clear();
    this.#presence.clear();
    for (const entry of entries) this.#presence.set(entry.userId, entry);
    // Online first, then the rest, each group in join order.
    const ordered = [...entries.filter((e) => e.online), ...entries.filter((e) => !e.online)];
    replaceChildren(this.#list, ...ordered.map((entry) => this.#item(entry.userId)));
  }

  #item(userId: string): HTMLLIElement {
    const status = h("span", { class: "member-status" });
    const typing = h("span", { class: "member-typing", text: "typing…", hidden: !this.typingUsers().includes(userId) });
    const dm =
      userId !== this.me && this.message
        ? h("button", { type: "button", class: "link-button member-dm", "aria-label": `Chat with ${userId}`, title: `Direct conversation with ${userId}`, onclick: () => this.message?.(userId) }, "Chat")
        : null;
    const li = h(
      "li",
      { class: "member", "data-user": userId },
      h("span", { class: "presence-dot", "aria-hidden": "true" }),
      h("span", { class: "member-text" }, h("span", { class: "member-name", text: userId }), userId === this.me ? h("span", { class: "member-you", text: " (you)" }) : null, h("br"), status, typing),
      dm,
    );
    const item = { li, status, typing };
    this.#items.set(userId, item);
    this.#renderPresence(userId, item);
    return li;
  }

  #renderPresence(userId: string, item: MemberItem): void {
    // Our own socket is open while this panel shows: we are online, whatever the last reload said.
    const state = this.#presence.get(userId);
    const online = userId === this.me || (state?.online ?? false);
    item.li.classList.toggle("online", online);
    item.li.dataset.presence = online ? "online" : "offline";
    item.status.textContent = online ? "online" : state?.lastSeen ? `offline, last seen ${formatTime(state.lastSeen)}` : "offline";
  }
}
