/**
 * The room list (the inbox): the user's rooms, most recent activity first,
 * each with its unread count and last message, kept live by the SDK's inbox
 * subscription (one socket for all rooms: activity, reads on other devices,
 * joins, leaves, deletions, restores). `listRooms` fills in what a notice
 * does not carry (a room's kind and the user's role) when the list starts,
 * when the inbox (re)connects, and when a notice names a room not yet known.
 * The forms to create and join rooms and to start a direct conversation are
 * in inbox-forms.ts; one room's list item in room-item.ts.
 *
 * Each room is one keyed list item (`#items`), updated in place; the list is
 * reordered only when the order actually changes, so focus is not disturbed.
 */
import { ChatError, DIRECT_ROOM_PREFIX, type ChatClient, type InboxRoom, type InboxSubscription, type RoomSummary } from "../client";
import { h, replaceChildren } from "./dom";
import { newConversationForms } from "./inbox-forms";
import { type RoomItem, renderRoomItem, roomItem } from "./room-item";

/** Rooms above the server's large-room threshold get no live notices: re-read the list this often while it is open. */
const LARGE_ROOM_REFRESH_MS = 15_000;

export interface InboxHooks {
  /** The user picked a room (or created, joined or opened one). */
  open(roomId: string): void;
  /** The session is no longer valid. */
  unauthorized(): void;
}

/** What the list shows about a room, merged from `listRooms` and inbox notices (the higher `seq` wins). */
interface RoomState {
  summary: RoomSummary;
  /** False for rooms above the large-room threshold: their notices carry no unread count. */
  live: boolean;
}

export class Inbox {
  readonly el: HTMLElement;
  readonly #list = h("ul", { class: "room-list" });
  readonly #empty = h("p", { class: "empty", text: "No conversations yet. Create or join a room, or message someone." });
  readonly #items = new Map<string, RoomItem>();
  readonly #rooms = new Map<string, RoomState>();
  /** Rooms we left or that were deleted, by the seq that said so: an older listRooms answer must not bring them back. */
  readonly #gone = new Map<string, number>();
  /** The other participant of each direct room (their ids are hashes). */
  readonly #directNames = new Map<string, string>();
  #current: string | null = null;
  /** The open conversation is on screen: its messages count as read as they arrive. */
  #currentVisible = true;
  #subscription: InboxSubscription | null = null;
  #largeTimer: ReturnType<typeof setInterval> | null = null;
  #refreshing: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly chat: ChatClient,
    private readonly me: string,
    private readonly hooks: InboxHooks,
  ) {
    this.el = h(
      "nav",
      { class: "inbox", "aria-label": "Rooms" },
      h("h2", { class: "inbox-title" }, "Conversations"),
      newConversationForms(chat, { refresh: () => this.refresh(), open: (roomId) => hooks.open(roomId), openDirect: (userId) => this.openDirect(userId) }),
      this.#list,
      this.#empty,
    );
  }

  start(): void {
    void this.refresh();
    this.chat
      .subscribeInbox({
        // After every (re)connect: the full state. listRooms fills in rooms the inbox has not heard of.
        onState: (rooms) => {
          for (const room of rooms) this.#apply(room);
          this.#render();
          void this.refresh();
        },
        onNotice: ({ kind, room }) => {
          this.#apply(room);
          if ((kind === "joined" || kind === "restored") && !this.#rooms.has(room.roomId)) void this.refresh();
          else this.#render();
        },
        onError: (error) => {
          if (error.code === "unauthorized") this.hooks.unauthorized();
        },
      })
      .then((subscription) => {
        if (this.#stopped) subscription.close();
        else this.#subscription = subscription;
      })
      .catch(() => {
        // The inbox could not be opened for good (onError said why); the list still works from listRooms.
      });
    this.#largeTimer = setInterval(() => {
      if ([...this.#rooms.values()].some((r) => !r.live)) void this.refresh();
    }, LARGE_ROOM_REFRESH_MS);
  }

  stop(): void {
    this.#stopped = true;
    this.#subscription?.close();
    this.#subscription = null;
    if (this.#largeTimer) clearInterval(this.#largeTimer);
    this.#largeTimer = null;
  }

  /** Whether the room's changes reach the list live (false above the large-room threshold, or before it is known). */
  isLive(roomId: string): boolean {
    return this.#rooms.get(roomId)?.live ?? false;
  }

  summary(roomId: string): RoomSummary | undefined {
    return this.#rooms.get(roomId)?.summary;
  }

  displayName(roomId: string): string {
    const other = this.#directNames.get(roomId);
    if (other) return other;
    return roomId.startsWith(DIRECT_ROOM_PREFIX) ? "Direct conversation" : `#${roomId}`;
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
    this.#render();
  }

  /** Whether the open conversation is on screen (the tab is visible): only then are its messages read. */
  setCurrentVisible(visible: boolean): void {
    this.#currentVisible = visible;
    this.#render();
  }

  /** The open conversation read up to `seq`: its badge clears now, before the room confirms it. */
  markedRead(roomId: string): void {
    const state = this.#rooms.get(roomId);
    if (!state || state.summary.unreadCount === 0) return;
    state.summary = { ...state.summary, unreadCount: 0 };
    this.#render();
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
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.refresh();
        }
      });
    return this.#refreshing;
  }

  /** A room the user just left or lost: drop it now rather than when the notice comes. */
  forget(roomId: string): void {
    this.#rooms.delete(roomId);
    this.#items.get(roomId)?.li.remove();
    this.#items.delete(roomId);
    this.#empty.hidden = this.#items.size > 0;
  }

  async #refresh(): Promise<void> {
    const rooms = await this.chat.listRooms();
    const seen = new Set<string>();
    for (const room of rooms) {
      seen.add(room.roomId);
      const gone = this.#gone.get(room.roomId);
      if (gone !== undefined && gone >= room.lastSeq) continue;
      this.#gone.delete(room.roomId);
      const known = this.#rooms.get(room.roomId);
      if (known && known.summary.lastSeq > room.lastSeq) {
        // A notice already brought something newer: keep its figures, take kind and role.
        known.summary = { ...known.summary, kind: room.kind, role: room.role, joinedTs: room.joinedTs };
      } else {
        this.#rooms.set(room.roomId, { summary: room, live: known?.live ?? true });
      }
    }
    for (const id of [...this.#rooms.keys()]) if (!seen.has(id)) this.forget(id);
    await Promise.all(rooms.filter((r) => r.kind === "direct" && !this.#directNames.has(r.roomId)).map((r) => this.#learnDirect(r.roomId)));
    this.#render();
  }

  /** One room's latest state from the inbox socket. */
  #apply(room: InboxRoom): void {
    if (room.state !== "member") {
      this.#gone.set(room.roomId, room.seq);
      this.forget(room.roomId);
      return;
    }
    this.#gone.delete(room.roomId);
    const known = this.#rooms.get(room.roomId);
    if (!known) return; // kind and role come from listRooms (the caller refreshes)
    if (room.seq < known.summary.lastSeq) return;
    const summary: RoomSummary = { ...known.summary, lastSeq: room.seq };
    if (room.unreadCount !== undefined) summary.unreadCount = room.unreadCount;
    if (room.lastMessage !== undefined) summary.lastMessage = room.lastMessage;
    if (room.lastActivityTs !== undefined) summary.lastActivityTs = room.lastActivityTs;
    known.summary = summary;
    known.live = room.unreadCount !== undefined;
  }

  async #learnDirect(roomId: string): Promise<void> {
    try {
      this.rememberDirect(roomId, await this.chat.activeUsers(roomId));
    } catch {
      // Shown as "Direct conversation" until the next refresh.
    }
  }

  /** Brings every item up to date and puts them in order, most recent activity first. */
  #render(): void {
    const rooms = [...this.#rooms.values()].map((r) => r.summary);
    rooms.sort((a, b) => b.lastActivityTs.localeCompare(a.lastActivityTs) || a.roomId.localeCompare(b.roomId));
    const items = rooms.map((room) => this.#item(room));
    const order = [...this.#list.children];
    if (order.length !== items.length || items.some((item, i) => item.li !== order[i])) replaceChildren(this.#list, ...items.map((i) => i.li));
    this.#empty.hidden = items.length > 0;
  }

  #item(room: RoomSummary): RoomItem {
    let item = this.#items.get(room.roomId);
    if (!item) {
      item = roomItem(room.roomId, (roomId) => this.hooks.open(roomId));
      this.#items.set(room.roomId, item);
      if (room.roomId === this.#current) item.link.setAttribute("aria-current", "page");
    }
    // The conversation on screen reads its messages as they arrive: no badge for it.
    const count = room.roomId === this.#current && this.#currentVisible ? 0 : (room.unreadCount ?? 0);
    renderRoomItem(item, room, this.displayName(room.roomId), this.me, count);
    return item;
  }

  /** Opens (creating if need be) the 1:1 room with `userId`; answers its room id. */
  async openDirect(userId: string): Promise<string> {
    const room = await this.chat.openDirect(userId);
    this.rememberDirect(room.roomId, room.members);
    return room.roomId;
  }
}

