/**
 * The open conversation, composed of its parts: the timeline (history and
 * live messages), the composer (sends and typing out), read state (receipts
 * and read marking), room actions (deletion), the member list, the typing
 * line and the reconnect banner. This class lays them out and wires the room
 * subscription to them; the rules live in the parts.
 *
 * The subscription starts exactly where the first history page ended (its
 * `headSeq`), so nothing is missed or shown twice.
 */
import type { ChatClient, ConnectionState, Message, RoomSummary, Subscription } from "../../client";
import { DIRECT_ROOM_PREFIX } from "../../client";
import { h } from "../dom";
import { MembersPanel } from "../members";
import { type MessageActions, MessageView } from "../message-view";
import { Composer } from "./composer";
import { mediaUrlCache } from "./media-urls";
import { ReadState } from "./read-state";
import { RoomActions } from "./room-actions";
import { Timeline } from "./timeline";
import { TypingLine } from "./typing";

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

export class ConversationView {
  readonly el: HTMLElement;
  readonly #banner = h("div", { class: "banner", role: "status", "aria-live": "polite", hidden: true });
  readonly #membersToggle = h("button", { type: "button", class: "members-toggle secondary", "aria-expanded": "false" }, "Members");
  readonly #timeline: Timeline;
  readonly #composer: Composer;
  readonly #reads: ReadState;
  readonly #room: RoomActions;
  readonly #members: MembersPanel;
  readonly #typing = new TypingLine();
  #subscription: Subscription | null = null;
  #wasLive = false;
  #closed = false;

  constructor(
    private readonly chat: ChatClient,
    readonly roomId: string,
    private readonly me: string,
    summary: RoomSummary | undefined,
    private readonly hooks: ConversationHooks,
  ) {
    const actions: MessageActions = {
      edit: async (view, content) => {
        const id = view.message?.id;
        if (!id) return;
        view.update(await chat.editMessage(roomId, id, content));
      },
      remove: async (view) => {
        const id = view.message?.id;
        if (!id) return;
        view.update(await chat.deleteMessage(roomId, id));
        this.#composer.focus();
      },
      retry: (view) => this.#composer.retry(view),
      mediaUrl: mediaUrlCache((mediaId) => chat.mediaUrl(roomId, mediaId)),
    };
    this.#timeline = new Timeline(chat, roomId, me, {
      view: (message) => new MessageView(message, me, actions),
      ownPaged: () => this.#reads.ownPaged(),
      ownLive: () => this.#reads.updateSeen(),
    });
    this.#reads = new ReadState(chat, roomId, me, {
      views: () => this.#timeline.views(),
      lastSeq: () => this.#subscription?.lastSeq ?? 0,
      onRead: () => hooks.onRead(roomId),
    });
    this.#composer = new Composer(chat, roomId, me, this.#timeline, actions, {
      onStored: () => this.#reads.updateSeen(),
      onActivity: () => hooks.onActivity(roomId),
    });
    this.#room = new RoomActions(chat, roomId, me, summary, {
      halt: () => {
        this.#composer.hide();
        this.#banner.hidden = true;
      },
      closeFeed: () => this.#subscription?.close(),
      onGone: () => hooks.onGone(roomId),
      onRestored: () => hooks.onRestored(roomId),
    });
    const openDirect = roomId.startsWith(DIRECT_ROOM_PREFIX) ? null : (userId: string) => hooks.openDirect(userId);
    this.#members = new MembersPanel(chat, roomId, me, () => this.#typingUsers(), openDirect);

    this.el = h(
      "section",
      { class: "conversation", "aria-labelledby": "conversation-title" },
      h(
        "header",
        { class: "conversation-head" },
        h("button", { type: "button", class: "back secondary", onclick: () => hooks.onBack() }, "Back to rooms"),
        h("h2", { id: "conversation-title", text: hooks.displayName(roomId) }),
        this.#membersToggle,
        this.#room.el,
      ),
      this.#banner,
      this.#room.notice,
      h("div", { class: "conversation-body" }, h("div", { class: "thread" }, this.#timeline.scroller, this.#typing.el, this.#composer.el), this.#members.el),
    );
    // Phones have no room for the member list beside the thread: a button shows it over the thread.
    this.#members.el.id = "members-panel";
    this.#membersToggle.setAttribute("aria-controls", "members-panel");
    this.#membersToggle.addEventListener("click", () => {
      const open = this.#membersToggle.getAttribute("aria-expanded") !== "true";
      this.#membersToggle.setAttribute("aria-expanded", String(open));
      this.#members.el.classList.toggle("open", open);
    });
    this.#composer.acceptDrops(this.el);
  }

  /** Loads the newest page, then goes live from its end. */
  async open(): Promise<void> {
    let page;
    try {
      page = await this.#timeline.newestPage();
    } catch (error) {
      return this.#room.unavailable(error);
    }
    if (this.#closed) return;
    this.#timeline.showNewest(page);
    this.#composer.focus();
    this.#reads.noteHead(page.headSeq);
    void this.#timeline.fillViewport();
    try {
      this.#subscription = await this.chat.subscribe(
        this.roomId,
        {
          onMessage: (message) => this.#onMessage(message),
          onMessageEdited: (message) => this.#timeline.edited(message),
          onMessageDeleted: (info) => this.#reads.tombstoned(this.#timeline.tombstone(info.messageId, info.deletedBy, info.deletedTs)),
          onRoomDeleted: (info) => this.#room.deleted(info.deletedBy),
          onEvent: (event) => {
            if (event.type === "member_joined" || event.type === "member_left") void this.#members.refresh();
            this.#reads.noteHead(event.seq);
            this.hooks.onActivity(this.roomId);
          },
          onPresence: (presence) => this.#members.setPresence(presence),
          onTyping: () => this.#renderTyping(),
          onReceipt: ({ userId, seq }) => this.#reads.receipt(userId, seq),
          onConnectionState: (state) => this.#connection(state),
          onReset: () => void this.#timeline.reload(),
          onError: (error) => this.#room.unavailable(error),
        },
        { after: { epoch: page.epoch, seq: page.headSeq } },
      );
      // Typing frames handled before the subscription was assigned were not rendered yet.
      this.#renderTyping();
      if (this.#closed) this.#subscription.close();
    } catch (error) {
      if (!this.#closed) this.#room.unavailable(error);
    }
  }

  focusComposer(): void {
    this.#composer.focus();
  }

  close(): void {
    this.#reads.close();
    this.#closed = true;
    this.#timeline.close();
    this.#room.close();
    this.#subscription?.close();
    this.#composer.close();
  }

  #onMessage(message: Message): void {
    if (this.#composer.isPending(message.clientId)) return this.#composer.stored(message.clientId, message);
    this.#timeline.addLive(message);
  }

  /** Who is typing here, from the subscription (the SDK expires the notices); our own devices are not shown. */
  #typingUsers(): string[] {
    return (this.#subscription?.typingUsers ?? []).filter((userId) => userId !== this.me);
  }

  #renderTyping(): void {
    const users = this.#typingUsers();
    this.#typing.render(users);
    this.#members.renderTyping();
  }

  #connection(state: ConnectionState): void {
    if (state === "live") {
      // Presence and receipts are ephemeral frames: those sent before this socket was live are
      // not replayed, so read the current state now (each time it goes live again, too).
      void this.#members.refresh();
      void this.#reads.loadReceipts();
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
}
