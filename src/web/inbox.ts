/**
 * The room list (the inbox): the user's rooms, most recent activity first,
 * each with its last message, kept current by polling `listRooms` every few
 * seconds and whenever something happens, and by following `sync()` so a room
 * deleted elsewhere leaves the list. Also the forms to create and join rooms
 * and to start a direct conversation.
 *
 * Each room is one keyed list item (`#items`), updated in place, so per-room
 * counters (unread) can be added to the item without rebuilding the list.
 */
import { ChatError, type ChatClient, type Message, type RoomSummary } from "../client";
import { h, formatTime, replaceChildren } from "./dom";
import { describe } from "./message-view";

const POLL_MS = 4_000;

export interface InboxHooks {
  /** The user picked a room (or created, joined or opened one). */
  open(roomId: string): void;
  /** The session is no longer valid. */
  unauthorized(): void;
}

interface RoomItem {
  li: HTMLLIElement;
  link: HTMLAnchorElement;
  name: HTMLElement;
  preview: HTMLElement;
  time: HTMLTimeElement;
  /** lastSeq when the preview was fetched: a changed lastSeq means a new last event. */
  previewSeq: number;
}

export class Inbox {
  readonly el: HTMLElement;
  readonly #list = h("ul", { class: "room-list" });
  readonly #empty = h("p", { class: "empty", text: "No conversations yet. Create or join a room, or message someone." });
  readonly #items = new Map<string, RoomItem>();
  readonly #summaries = new Map<string, RoomSummary>();
  /** The other participant of each direct room (their ids are hashes). */
  readonly #directNames = new Map<string, string>();
  #current: string | null = null;
  #syncCursor: string | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #refreshing: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly me: string,
    private readonly hooks: InboxHooks,
  ) {
    this.el = h(
      "nav",
      { class: "inbox", "aria-label": "Rooms" },
      h("h2", { class: "inbox-title" }, "Conversations"),
      this.#forms(),
      this.#list,
      this.#empty,
    );
  }

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), POLL_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  summary(roomId: string): RoomSummary | undefined {
    return this.#summaries.get(roomId);
  }

  displayName(roomId: string): string {
    const other = this.#directNames.get(roomId);
    if (other) return other;
    return roomId.startsWith("dm.") ? "Direct conversation" : `#${roomId}`;
  }

  rememberDirect(roomId: string, members: string[]): void {
    const other = members.find((m) => m !== this.me);
    if (other) this.#directNames.set(roomId, other);
  }

  setCurrent(roomId: string | null): void {
    this.#current = roomId;
    for (const [id, item] of this.#items) {
      if (id === roomId) item.link.setAttribute("aria-current", "page");
      else item.link.removeAttribute("aria-current");
    }
  }

  /** Re-reads the list (coalesced; a call during a refresh runs one more after it). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#refresh()
      .catch((error: unknown) => {
        if (error instanceof ChatError && error.code === "unauthorized") this.hooks.unauthorized();
      })
      .finally(() => {
        this.#refreshing = null;
        if (this.#again) {
          this.#again = false;
          void this.refresh();
        }
      });
    return this.#refreshing;
  }

  /** A room the user just left or lost: drop it now rather than at the next poll. */
  forget(roomId: string): void {
    this.#summaries.delete(roomId);
    this.#items.get(roomId)?.li.remove();
    this.#items.delete(roomId);
    this.#empty.hidden = this.#items.size > 0;
  }

  async #refresh(): Promise<void> {
    await this.#followSync();
    const rooms = await this.chat.listRooms();
    rooms.sort((a, b) => b.lastActivityTs.localeCompare(a.lastActivityTs));
    const seen = new Set<string>();
    for (const room of rooms) {
      seen.add(room.roomId);
      this.#summaries.set(room.roomId, room);
    }
    for (const id of [...this.#items.keys()]) if (!seen.has(id)) this.forget(id);
    await Promise.all(rooms.filter((r) => r.kind === "direct" && !this.#directNames.has(r.roomId)).map((r) => this.#learnDirect(r.roomId)));
    const items = rooms.map((room) => this.#item(room));
    // Reorder only when the order changed, so focus inside the list is not disturbed.
    const order = [...this.#list.children];
    if (order.length !== items.length || items.some((item, i) => item.li !== order[i])) replaceChildren(this.#list, ...items.map((i) => i.li));
    this.#empty.hidden = items.length > 0;
    await Promise.all(rooms.map((room) => this.#updatePreview(room)));
  }

  /** Deletions and restores from the user's sync log (other devices, other members). */
  async #followSync(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      let page;
      try {
        page = await this.chat.sync(this.#syncCursor);
      } catch (error) {
        if (error instanceof ChatError && error.code === "resync_required" && typeof error.details?.cursor === "string") {
          this.#syncCursor = error.details.cursor;
          return;
        }
        throw error;
      }
      const first = this.#syncCursor === null;
      this.#syncCursor = page.cursor;
      // On the first read the list itself is the truth; later, deletions drop rooms at once.
      if (!first) for (const event of page.events) if (event.type === "room_deleted" || event.type === "room_left") this.forget(event.roomId);
      if (!page.hasMore) return;
    }
  }

  async #learnDirect(roomId: string): Promise<void> {
    try {
      this.rememberDirect(roomId, await this.chat.activeUsers(roomId));
    } catch {
      // Shown as "Direct conversation" until the next refresh.
    }
  }

  #item(room: RoomSummary): RoomItem {
    let item = this.#items.get(room.roomId);
    if (!item) {
      const name = h("span", { class: "room-name" });
      const time = h("time", { class: "room-time" });
      const preview = h("span", { class: "room-preview" });
      const link = h("a", { href: `#/r/${encodeURIComponent(room.roomId)}`, class: "room-link" }, h("span", { class: "room-line" }, name, time), preview);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.hooks.open(room.roomId);
      });
      item = { li: h("li", { "data-room": room.roomId }, link), link, name, preview, time, previewSeq: -1 };
      this.#items.set(room.roomId, item);
      if (room.roomId === this.#current) link.setAttribute("aria-current", "page");
    }
    item.name.textContent = this.displayName(room.roomId);
    item.li.classList.toggle("direct", room.kind === "direct");
    item.time.dateTime = room.lastActivityTs;
    item.time.textContent = formatTime(room.lastActivityTs);
    return item;
  }

  async #updatePreview(room: RoomSummary): Promise<void> {
    const item = this.#items.get(room.roomId);
    if (!item || item.previewSeq === room.lastSeq) return;
    try {
      const page = await this.chat.getHistory(room.roomId, { limit: 1 });
      item.previewSeq = room.lastSeq;
      item.preview.textContent = previewText(page.messages.at(-1), this.me);
    } catch {
      // Kept as it was; the next poll tries again.
    }
  }

  #forms(): HTMLElement {
    const status = h("p", { class: "form-status", role: "status" });
    const form = (label: string, id: string, button: string, action: (value: string) => Promise<string>) => {
      const input = h("input", { id, name: id, autocomplete: "off", required: true, spellcheck: "false" });
      const submit = h("button", { type: "submit" }, button);
      const el = h("form", { class: "inline-form" }, h("label", { for: id, text: label }), h("div", { class: "row" }, input, submit));
      el.addEventListener("submit", async (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        submit.disabled = true;
        status.textContent = "";
        try {
          const roomId = await action(value);
          input.value = "";
          void this.refresh();
          this.hooks.open(roomId);
        } catch (error) {
          status.textContent = friendly(error);
        } finally {
          submit.disabled = false;
        }
      });
      return el;
    };
    return h(
      "details",
      { class: "new-conversation" },
      h("summary", {}, "New conversation"),
      form("Room name", "create-room", "Create room", async (roomId) => (await this.chat.createRoom(roomId)).roomId),
      form("Room to join", "join-room", "Join room", async (roomId) => {
        await this.chat.joinRoom(roomId);
        return roomId;
      }),
      form("Direct chat with (user name)", "direct-user", "Start direct chat", async (userId) => {
        const room = await this.chat.openDirect(userId);
        this.rememberDirect(room.roomId, room.members);
        return room.roomId;
      }),
      status,
    );
  }
}

function previewText(message: Message | undefined, me: string): string {
  if (!message) return "No messages yet";
  const who = message.sender === me ? "You" : message.sender;
  if (message.deleted) return `${who}: message deleted`;
  const text = message.content.replace(/\s+/g, " ").trim();
  return `${who}: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
}

function friendly(error: unknown): string {
  if (error instanceof ChatError) {
    switch (error.code) {
      case "room_exists":
        return "A room with that name already exists: join it instead.";
      case "room_not_found":
        return "There is no room with that name.";
      case "room_deleted":
        return "That room was deleted.";
      case "invalid_request":
        return error.message;
      case "forbidden":
        return "You may not do that.";
    }
  }
  return describe(error);
}
