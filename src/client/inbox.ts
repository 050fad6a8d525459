/**
 * The inbox subscription: one socket for all of the user's rooms. It carries
 * the latest state of each room (unread count, last message) as it changes,
 * so a client viewing one room learns about the others without a socket per
 * room. Notices are state, not events: after a reconnect the first frame
 * (`inbox_state`) brings every room up to date, so nothing needs replaying.
 */
import { InboxFrame, type InboxKind, type InboxRoom } from "../protocol";
import { ConnectTicket } from "./answers";
import type { ChatError } from "./errors";
import { type Connection, type ConnectionState, ReconnectingSocket, type WebSocketConstructor } from "./reconnecting-socket";
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

export class InboxSubscription {
  #rooms = new Map<string, InboxRoom>();
  readonly #socket: ReconnectingSocket;
  readonly ready: Promise<void>;

  constructor(
    transport: Transport,
    WebSocketImpl: WebSocketConstructor,
    private readonly handlers: InboxHandlers,
  ) {
    this.#socket = new ReconnectingSocket({
      ticket: () => transport.request(ConnectTicket, "POST", "/api/inbox/connect-ticket"),
      baseUrl: transport.baseUrl,
      WebSocketImpl,
      // Every close is worth retrying: the inbox has no terminal close codes (an expired token reconnects with a fresh one).
      session: (connection) => ({ onText: (text) => this.#frame(text, connection) }),
      onState: (state) => handlers.onConnectionState?.(state),
      onFail: (error) => handlers.onError?.(error),
      closedMessage: "inbox closed",
    });
    this.ready = this.#socket.ready;
    this.#socket.start();
  }

  get state(): ConnectionState {
    return this.#socket.state;
  }

  /** The latest known state of each room. */
  get rooms(): InboxRoom[] {
    return [...this.#rooms.values()];
  }

  close(): void {
    this.#socket.close();
  }

  #frame(text: string, connection: Connection): void {
    let frame: InboxFrame;
    try {
      frame = InboxFrame.parse(JSON.parse(text));
    } catch {
      return; // A frame from a newer server: skip it.
    }
    if (frame.type === "inbox_state") {
      this.#rooms = new Map(frame.rooms.map((r) => [r.roomId, r]));
      connection.live();
      this.handlers.onState?.(frame.rooms);
      for (const room of frame.rooms) {
        if (room.state === "member" && room.unreadCount !== undefined) this.handlers.onUnread?.({ roomId: room.roomId, unreadCount: room.unreadCount });
      }
    } else if (frame.type === "inbox") {
      this.#apply(frame.kind, frame.room);
    }
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
    if (unreadChanged && room.state === "member" && room.unreadCount !== undefined) {
      this.handlers.onUnread?.({ roomId: room.roomId, unreadCount: room.unreadCount });
    }
  }
}
