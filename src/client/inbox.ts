/**
 * The inbox subscription: one socket for all of the user's rooms. It carries
 * the latest state of each room (unread count, last message) as it changes,
 * so a client viewing one room learns about the others without a socket per
 * room. Notices are state, not events: after a reconnect the first frame
 * (`inbox_state`) brings every room up to date, so nothing needs replaying.
 */
import { ConnectTicket, HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE, InboxFrame, type InboxKind, type InboxRoom } from "../protocol";
import { backoffDelay, sleep } from "./backoff";
import { ChatError } from "./errors";
import type { ConnectionState, WebSocketConstructor, WebSocketLike } from "./subscription";
import type { Transport } from "./transport";

export type { InboxRoom, InboxKind } from "../protocol";

export interface InboxNoticeEvent {
  kind: InboxKind;
  room: InboxRoom;
}

export interface InboxHandlers {
  /** New messages, edits or deletions in a room (rooms up to the large-room threshold). */
  onActivity?(room: InboxRoom): void;
  onRoomJoined?(room: InboxRoom): void;
  onRoomLeft?(room: InboxRoom): void;
  onRoomDeleted?(room: InboxRoom): void;
  onRoomRestored?(room: InboxRoom): void;
  /** A room's unread count, whenever a notice or the state after (re)connecting carries one. */
  onUnread?(unread: { roomId: string; unreadCount: number }): void;
  /** The full state after each (re)connect. */
  onState?(rooms: InboxRoom[]): void;
  /** Every notice, whatever its kind. */
  onNotice?(notice: InboxNoticeEvent): void;
  onConnectionState?(state: ConnectionState): void;
  /** The inbox ended for good (e.g. the token was refused). It will not reconnect. */
  onError?(error: ChatError): void;
}

const HEARTBEAT_MS = 20_000;
const DEAD_AFTER_MS = 50_000;
/** A socket that has not brought the inbox state this long after opening is given up and retried. */
const CONNECT_TIMEOUT_MS = 10_000;

export class InboxSubscription {
  #closed = false;
  #socket: WebSocketLike | null = null;
  #state: ConnectionState = "connecting";
  #rooms = new Map<string, InboxRoom>();
  #live!: { resolve: () => void; reject: (error: ChatError) => void; settled: boolean };
  readonly ready: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly handlers: InboxHandlers,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.#live = { resolve, reject, settled: false };
    });
    void this.#run();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The latest known state of each room. */
  get rooms(): InboxRoom[] {
    return [...this.#rooms.values()];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.close(1000, "closed by client");
    this.#settle(new ChatError("cancelled", "inbox closed"));
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#closed) return;
    this.#state = state;
    this.handlers.onConnectionState?.(state);
  }

  #settle(error?: ChatError): void {
    if (this.#live.settled) return;
    this.#live.settled = true;
    if (error) this.#live.reject(error);
    else this.#live.resolve();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    this.handlers.onConnectionState?.("connecting");
    while (!this.#closed) {
      this.#setState("connecting");
      try {
        const ticket = await this.transport.request<ConnectTicket>("POST", "/api/inbox/connect-ticket");
        if (await this.#session(ticket)) attempt = 0;
      } catch (error) {
        const chatError = error instanceof ChatError ? error : new ChatError("internal", String(error));
        if (chatError.permanent) {
          this.#closed = true;
          this.#state = "offline";
          this.handlers.onConnectionState?.("offline");
          this.#settle(chatError);
          this.handlers.onError?.(chatError);
          return;
        }
      }
      if (this.#closed) return;
      this.#setState("offline");
      await sleep(backoffDelay(attempt++));
    }
  }

  /** One socket's life; resolves when it closes (true if it went live). */
  #session(ticket: ConnectTicket): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const url = new URL(ticket.url, this.transport.baseUrl);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      let socket: WebSocketLike;
      try {
        socket = new this.WebSocketImpl(url.toString());
      } catch (error) {
        return reject(new ChatError("network_error", `could not open a WebSocket: ${String(error)}`));
      }
      this.#socket = socket;
      let wentLive = false;
      let lastFrameAt = Date.now();
      const heartbeat = setInterval(() => {
        if (Date.now() - lastFrameAt > DEAD_AFTER_MS) socket.close(4000, "heartbeat timeout");
        else if (socket.readyState === 1) socket.send(HEARTBEAT_REQUEST);
      }, HEARTBEAT_MS);
      const connectTimer = setTimeout(() => {
        if (!wentLive) socket.close(4000, "connect timeout");
      }, CONNECT_TIMEOUT_MS);
      socket.onopen = () => {};
      socket.onmessage = (event) => {
        lastFrameAt = Date.now();
        const text = typeof event.data === "string" ? event.data : String(event.data);
        if (text === HEARTBEAT_RESPONSE) return;
        let frame: InboxFrame;
        try {
          frame = InboxFrame.parse(JSON.parse(text));
        } catch {
          return; // A frame from a newer server: skip it.
        }
        if (frame.type === "inbox_state") {
          this.#rooms = new Map(frame.rooms.map((r) => [r.roomId, r]));
          if (!wentLive) {
            wentLive = true;
            this.#setState("live");
            this.#settle();
          }
          this.handlers.onState?.(frame.rooms);
          for (const room of frame.rooms) {
            if (room.state === "member" && room.unreadCount !== undefined) this.handlers.onUnread?.({ roomId: room.roomId, unreadCount: room.unreadCount });
          }
        } else if (frame.type === "inbox") {
          this.#apply(frame.kind, frame.room);
        }
      };
      socket.onerror = () => {
        // A close event always follows.
      };
      socket.onclose = () => {
        clearInterval(heartbeat);
        clearTimeout(connectTimer);
        if (this.#socket === socket) this.#socket = null;
        resolve(wentLive);
      };
    });
  }

  #apply(kind: InboxKind, room: InboxRoom): void {
    const known = this.#rooms.get(room.roomId);
    if (known && room.seq < known.seq) return; // older than what we have
    const unreadChanged = room.unreadCount !== undefined && room.unreadCount !== known?.unreadCount;
    this.#rooms.set(room.roomId, room);
    this.handlers.onNotice?.({ kind, room });
    switch (kind) {
      case "activity":
        this.handlers.onActivity?.(room);
        break;
      case "joined":
        this.handlers.onRoomJoined?.(room);
        break;
      case "left":
        this.handlers.onRoomLeft?.(room);
        break;
      case "deleted":
        this.handlers.onRoomDeleted?.(room);
        break;
      case "restored":
        this.handlers.onRoomRestored?.(room);
        break;
      case "read":
        break;
    }
    if (unreadChanged && room.state === "member") this.handlers.onUnread?.({ roomId: room.roomId, unreadCount: room.unreadCount! });
  }
}
