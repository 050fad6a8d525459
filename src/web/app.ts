/**
 * The signed-in app: header, room list and the open conversation, with the
 * room in the URL (`#/r/<roomId>`) so reloads and the back button work. On a
 * phone-sized screen only one of list and conversation shows at a time.
 */
import { ChatClient } from "../client";
import { ConversationView } from "./conversation/view";
import { h, replaceChildren } from "./dom";
import { codeText, knownText } from "./errors";
import { Inbox } from "./inbox";
import type { Session } from "./session";

export class ChatApp {
  readonly el: HTMLElement;
  readonly #chat: ChatClient;
  readonly #inbox: Inbox;
  readonly #pane = h("div", { class: "pane" });
  #conversation: ConversationView | null = null;
  #activityTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #onHash = () => this.#route();
  readonly #onVisibility = () => this.#inbox.setCurrentVisible(document.visibilityState === "visible");

  constructor(
    private readonly session: Session,
    private readonly signOut: (notice?: string) => void,
  ) {
    this.#chat = new ChatClient({ baseUrl: location.origin, token: session.token });
    this.#inbox = new Inbox(this.#chat, session.userId, {
      open: (roomId) => this.#navigate(roomId),
      unauthorized: () => this.signOut(codeText("session", "unauthorized")),
    });
    this.el = h(
      "div",
      { class: "app" },
      h(
        "header",
        { class: "app-head" },
        h("h1", {}, "edge-chat"),
        h("span", { class: "whoami" }, "Signed in as ", h("strong", { text: session.userId })),
        h("button", { type: "button", class: "secondary", onclick: () => this.signOut() }, "Sign out"),
      ),
      h("div", { class: "layout" }, this.#inbox.el, this.#pane),
    );
  }

  start(): void {
    this.#inbox.start();
    window.addEventListener("hashchange", this.#onHash);
    document.addEventListener("visibilitychange", this.#onVisibility);
    this.#onVisibility();
    this.#route();
  }

  stop(): void {
    window.removeEventListener("hashchange", this.#onHash);
    document.removeEventListener("visibilitychange", this.#onVisibility);
    if (this.#activityTimer) clearTimeout(this.#activityTimer);
    this.#inbox.stop();
    this.#conversation?.close();
    this.#chat.close();
  }

  #navigate(roomId: string): void {
    const hash = `#/r/${encodeURIComponent(roomId)}`;
    if (location.hash === hash) this.#route();
    else location.hash = hash;
  }

  #route(): void {
    const match = /^#\/r\/(.+)$/.exec(location.hash);
    const roomId = match?.[1] ? decodeURIComponent(match[1]) : null;
    if (roomId && roomId === this.#conversation?.roomId) {
      this.#conversation.focusComposer();
      this.el.classList.add("room-open");
      return;
    }
    this.#conversation?.close();
    this.#conversation = null;
    this.#inbox.setCurrent(roomId);
    this.el.classList.toggle("room-open", roomId !== null);
    if (!roomId) {
      replaceChildren(this.#pane, h("div", { class: "placeholder" }, h("p", { text: "Pick a conversation, or start a new one." })));
      return;
    }
    const view = new ConversationView(this.#chat, roomId, this.session.userId, this.#inbox.summary(roomId), {
      // The inbox socket keeps the list live, except for large rooms (no fan-out): re-read those.
      onActivity: (id) => {
        if (!this.#inbox.isLive(id)) this.#soon();
      },
      onRead: (id) => this.#inbox.markedRead(id),
      openDirect: (userId) => {
        this.#inbox.openDirect(userId).then(
          (id) => {
            void this.#inbox.refresh();
            this.#navigate(id);
          },
          () => undefined,
        );
      },
      onGone: (id) => this.#inbox.forget(id),
      onRestored: (id) => {
        void this.#inbox.refresh();
        if (this.#conversation?.roomId === id) {
          this.#conversation.close();
          this.#conversation = null;
          this.#route();
        }
      },
      onBack: () => {
        location.hash = "";
        this.#inbox.el.querySelector<HTMLElement>("[aria-current=page]")?.focus();
      },
      displayName: (id) => this.#inbox.displayName(id),
    });
    this.#conversation = view;
    replaceChildren(this.#pane, view.el);
    view.open().catch((error: unknown) => {
      const expired = knownText("session", error);
      if (expired) this.signOut(expired);
    });
  }

  /** Room activity: refresh the list shortly (coalescing bursts of messages). */
  #soon(): void {
    if (this.#activityTimer) return;
    this.#activityTimer = setTimeout(() => {
      this.#activityTimer = null;
      void this.#inbox.refresh();
    }, 500);
  }
}
