/**
 * A live subscription to one room, on a reconnecting socket: every socket
 * opens with `hello` and the last applied position, so the handlers see every
 * event once, in `seq` order, with no gap, however often the socket drops.
 *
 * Frames are handled strictly one after another (a promise chain), because a
 * resync makes the client page history over HTTP before it may apply the live
 * events that arrive meanwhile. Frames of a socket that has ended are not
 * applied: its successor resumes from what was.
 */
import { CloseCodes, type Message, PROTOCOL_VERSION, type Position, type RoomEvent, ServerFrame } from "../protocol";
import { ConnectTicket, HistoryPage } from "./answers";
import { ChatError } from "./errors";
import { type Connection, type ConnectionState, ReconnectingSocket, type SessionHandlers, type WebSocketConstructor } from "./reconnecting-socket";
import { TypingTracker } from "./typing";
import type { Transport } from "./transport";

export type { ConnectionState, WebSocketConstructor, WebSocketLike } from "./reconnecting-socket";

export interface SubscribeHandlers {
  /** A new message, in seq order, exactly once (including your own, from any device). */
  onMessage?(message: Message): void;
  /** Every event of the room log (messages, edits, deletions, joins, leaves), in seq order. */
  onEvent?(event: RoomEvent): void;
  /** A message was edited: `message` is its new state (same id and seq, `editedTs` set). */
  onMessageEdited?(message: Message): void;
  /** A message became a tombstone: drop its content from your UI. */
  onMessageDeleted?(info: { roomId: string; messageId: string; messageSeq: number; deletedBy: string; deletedTs: string }): void;
  /**
   * The conversation was deleted, live or while you were away. The
   * subscription ends; the room may still be restored (watch `chat.sync()`).
   */
  onRoomDeleted?(info: { roomId: string; deletedBy?: string; restorableUntil?: string }): void;
  onConnectionState?(state: ConnectionState): void;
  /**
   * The room's history was reset (its epoch changed) while you were away: the
   * position you resumed from no longer exists. Reload history if you show it.
   */
  onReset?(info: { epoch: string; seq: number }): void;
  /** A member came online or went offline (after a grace period). Hidden users never appear. */
  onPresence?(presence: { userId: string; online: boolean; devices: number; lastSeen: string | null }): void;
  /**
   * Someone started (`typing: true`) or stopped typing. Stopping is reported
   * when their notice expires (10 s without a refresh) or their message arrives.
   */
  onTyping?(typing: { userId: string; typing: boolean; expiresTs?: string }): void;
  /** A member read up to and including `seq` (yours too, from your other devices). */
  onReceipt?(receipt: { userId: string; seq: number }): void;
  /** The subscription ended for good (e.g. not_member). It will not reconnect. */
  onError?(error: ChatError): void;
}

export interface SubscribeOptions {
  /** Resume after this position (e.g. `sub.position` saved before a reload). */
  after?: Position;
}

const GAP_FILL_PAGE = 200;
/** Report received events at least this often, so the room does not take us for a slow consumer. */
const PROGRESS_EVERY_EVENTS = 100;
const PROGRESS_EVERY_MS = 1_000;

/** Closes after which reconnecting cannot help. */
function closeError(code: number): ChatError | undefined {
  if (code === CloseCodes.notMember) return new ChatError("not_member", "you are not a member of this room");
  if (code === CloseCodes.roomDeleted) return new ChatError("room_deleted", "the room was deleted");
  if (code === CloseCodes.unsupportedProtocol) return new ChatError("invalid_request", "protocol version not supported by the server");
  return undefined;
}

export class Subscription {
  #epoch: string | null = null;
  #lastSeq = 0;
  #deletedAnnounced = false;
  readonly #typing: TypingTracker;
  readonly #socket: ReconnectingSocket;
  readonly ready: Promise<void>;

  constructor(
    readonly roomId: string,
    private readonly transport: Transport,
    WebSocketImpl: WebSocketConstructor,
    private readonly handlers: SubscribeHandlers,
    options: SubscribeOptions,
  ) {
    if (options.after) {
      this.#epoch = options.after.epoch;
      this.#lastSeq = options.after.seq;
    }
    this.#typing = new TypingTracker((change) => handlers.onTyping?.(change));
    this.#socket = new ReconnectingSocket({
      ticket: () => transport.request(ConnectTicket, "POST", `/api/rooms/${encodeURIComponent(roomId)}/connect-ticket`),
      baseUrl: transport.baseUrl,
      WebSocketImpl,
      session: (connection) => this.#session(connection),
      onState: (state) => handlers.onConnectionState?.(state),
      closeError,
      onFail: (error) => {
        if (error.code === "room_deleted" && !this.#deletedAnnounced) {
          this.#deletedAnnounced = true;
          handlers.onRoomDeleted?.({ roomId });
        }
        handlers.onError?.(error);
      },
      closedMessage: "subscription closed",
    });
    this.ready = this.#socket.ready;
    this.#socket.start();
  }

  /** The seq of the last event delivered to the handlers. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get epoch(): string | null {
    return this.#epoch;
  }

  /** Where to resume from: persist it to survive a reload (`subscribe(room, h, { after })`). */
  get position(): Position | null {
    return this.#epoch === null ? null : { epoch: this.#epoch, seq: this.#lastSeq };
  }

  get state(): ConnectionState {
    return this.#socket.state;
  }

  /** Users currently typing here (their notices have not expired). */
  get typingUsers(): string[] {
    return this.#typing.users;
  }

  /** Sends a frame on the live socket; false when there is none right now. */
  sendFrame(frame: object): boolean {
    if (this.#socket.state !== "live") return false;
    return this.#socket.send(JSON.stringify(frame));
  }

  close(): void {
    if (this.#socket.closed) return;
    this.#typing.clear();
    this.#socket.close();
  }

  /** One socket: hello on open, frames through the chain, progress reports while live. */
  #session(connection: Connection): SessionHandlers {
    let chain = Promise.resolve();
    let reported = 0;
    const reportProgress = () => {
      if (connection.isLive && this.#lastSeq > reported && connection.send(JSON.stringify({ type: "progress", seq: this.#lastSeq }))) {
        reported = this.#lastSeq;
      }
    };
    const progress = setInterval(reportProgress, PROGRESS_EVERY_MS);
    return {
      onOpen: () => {
        connection.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, ...(this.position ? { after: this.position } : {}) }));
      },
      onText: (text) => {
        let frame: ServerFrame;
        try {
          frame = ServerFrame.parse(JSON.parse(text));
        } catch {
          return; // A frame from a newer server that this SDK does not know: skip it.
        }
        connection.answered();
        chain = chain
          .then(() => (connection.ended ? false : this.#handle(frame, connection)))
          .then((live) => {
            if (live && !connection.isLive) {
              reported = this.#lastSeq;
              connection.live();
            }
            if (this.#lastSeq - reported >= PROGRESS_EVERY_EVENTS) reportProgress();
          })
          .catch((error: unknown) => {
            // A gap fill failed (network): drop the socket and resume from the last applied event.
            connection.drop("resync failed");
            if (error instanceof ChatError && error.permanent) this.#fail(error);
          });
      },
      onEnd: () => clearInterval(progress),
    };
  }

  #fail(error: ChatError): void {
    this.#socket.fail(error);
  }

  /** Applies one frame. Returns true when the socket is now live. */
  async #handle(frame: ServerFrame, connection: Connection): Promise<boolean> {
    switch (frame.type) {
      case "live":
        if (this.#epoch === null) {
          this.#epoch = frame.epoch;
          this.#lastSeq = frame.seq;
        }
        return true;
      case "resync":
        await this.#resync(frame.reason, frame.epoch, frame.seq, frame.historyCursor, connection);
        return false;
      case "event":
        if (frame.epoch !== this.#epoch) return false;
        if (frame.event.seq <= this.#lastSeq) return false; // a duplicate: already applied
        if (frame.event.seq !== this.#lastSeq + 1) {
          // Never expected: the server replays before going live. Resume to close the gap.
          connection.drop("gap detected");
          return false;
        }
        this.#apply(frame.event);
        return false;
      case "presence":
        this.handlers.onPresence?.({ userId: frame.userId, online: frame.online, devices: frame.devices, lastSeen: frame.lastSeen });
        return false;
      case "typing":
        this.#typing.started(frame.userId, frame.expiresTs);
        return false;
      case "receipt":
        this.handlers.onReceipt?.({ userId: frame.userId, seq: frame.seq });
        return false;
      case "error":
        if (frame.reqId === null && frame.error.code !== "invalid_request") {
          const error = new ChatError(frame.error.code, frame.error.message);
          if (error.permanent) this.#fail(error);
        }
        return false;
      default:
        return false;
    }
  }

  #apply(event: RoomEvent): void {
    this.#lastSeq = event.seq;
    this.handlers.onEvent?.(event);
    switch (event.type) {
      case "message":
        this.#typing.stopped(event.message.sender);
        return this.handlers.onMessage?.(event.message);
      case "message_edited":
        // A replay's earlier edit of a message: a later event brings its state.
        if (event.supersededBy !== undefined) return;
        return this.handlers.onMessageEdited?.(event.message);
      case "message_deleted":
        return this.handlers.onMessageDeleted?.({
          roomId: this.roomId,
          messageId: event.messageId,
          messageSeq: event.messageSeq,
          deletedBy: event.deletedBy,
          deletedTs: event.deletedTs,
        });
      case "room_deleted":
        this.#deletedAnnounced = true;
        return this.handlers.onRoomDeleted?.({ roomId: this.roomId, deletedBy: event.deletedBy, restorableUntil: event.restorableUntil });
    }
  }

  /**
   * The server cannot replay from our position. Same epoch: page the missed
   * messages forward from history with the cursor it gave. Other epoch: the
   * old positions mean nothing now.
   */
  async #resync(reason: "epoch_changed" | "too_far_behind", epoch: string, seq: number, cursor: string, connection: Connection): Promise<void> {
    if (reason === "epoch_changed" || this.#epoch !== epoch) {
      this.#epoch = epoch;
      this.#lastSeq = seq;
      this.handlers.onReset?.({ epoch, seq });
      return;
    }
    const path = `/api/rooms/${encodeURIComponent(this.roomId)}/messages`;
    let next: string | null = cursor;
    while (next) {
      const page: HistoryPage = await this.transport.request(HistoryPage, "GET", `${path}?limit=${GAP_FILL_PAGE}&cursor=${encodeURIComponent(next)}`);
      // Forward pages carry every event of the range, edits and deletions included.
      const events = page.events ?? page.messages.map((message): RoomEvent => ({ type: "message", seq: message.seq, ts: message.ts, message }));
      for (const event of events) {
        if (connection.ended) return; // the next socket resumes from here
        if (event.seq > this.#lastSeq && event.seq <= seq) this.#apply(event);
      }
      next = page.nextCursor;
    }
    if (!connection.ended) this.#lastSeq = Math.max(this.#lastSeq, seq);
  }
}
