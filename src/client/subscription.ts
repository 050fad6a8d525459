/**
 * A live subscription to one room: one WebSocket, reopened with jittered
 * backoff whenever it drops, resuming from the last applied position so the
 * handlers see every event once, in `seq` order, with no gap.
 *
 * Frames are handled strictly one after another (a promise chain), because a
 * resync makes the client page history over HTTP before it may apply the live
 * events that arrive meanwhile.
 */
import {
  type ConnectTicket,
  type HistoryPage,
  HEARTBEAT_REQUEST,
  HEARTBEAT_RESPONSE,
  type Message,
  PROTOCOL_VERSION,
  type Position,
  type RoomEvent,
  ServerFrame,
  CloseCodes,
} from "../protocol";
import { backoffDelay, sleep } from "./backoff";
import { ChatError } from "./errors";
import type { Transport } from "./transport";

export type ConnectionState = "connecting" | "live" | "offline";

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

/** The minimal WebSocket surface the SDK needs: browsers' and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const HEARTBEAT_MS = 20_000;
/** No frame (not even a pong) for this long means the connection is dead, even if no close came. */
const DEAD_AFTER_MS = 50_000;
const GAP_FILL_PAGE = 200;
/** Report received events at least this often, so the room does not take us for a slow consumer. */
const PROGRESS_EVERY_EVENTS = 100;
const PROGRESS_EVERY_MS = 1_000;

export class Subscription {
  #epoch: string | null = null;
  #lastSeq = 0;
  #closed = false;
  #socket: WebSocketLike | null = null;
  #state: ConnectionState = "connecting";
  #deletedAnnounced = false;
  #typing = new Map<string, ReturnType<typeof setTimeout>>();
  #live!: { resolve: () => void; reject: (error: ChatError) => void; settled: boolean };
  readonly ready: Promise<void>;

  constructor(
    readonly roomId: string,
    private readonly transport: Transport,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly handlers: SubscribeHandlers,
    options: SubscribeOptions,
  ) {
    if (options.after) {
      this.#epoch = options.after.epoch;
      this.#lastSeq = options.after.seq;
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.#live = { resolve, reject, settled: false };
    });
    void this.#run();
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
    return this.#state;
  }

  /** Users currently typing here (their notices have not expired). */
  get typingUsers(): string[] {
    return [...this.#typing.keys()];
  }

  /** Sends a frame on the live socket; false when there is none right now. */
  sendFrame(frame: object): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== 1 || this.#state !== "live") return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#typing.values()) clearTimeout(timer);
    this.#typing.clear();
    this.#socket?.close(1000, "closed by client");
    this.#settle(new ChatError("cancelled", "subscription closed"));
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

  #fail(error: ChatError): void {
    if (this.#closed) return;
    this.#setState("offline");
    if (error.code === "room_deleted" && !this.#deletedAnnounced) {
      this.#deletedAnnounced = true;
      this.handlers.onRoomDeleted?.({ roomId: this.roomId });
    }
    this.#closed = true;
    this.#setState("offline");
    this.#settle(error);
    this.handlers.onError?.(error);
  }

  async #run(): Promise<void> {
    let attempt = 0;
    this.handlers.onConnectionState?.("connecting");
    while (!this.#closed) {
      this.#setState("connecting");
      try {
        const ticket = await this.transport.request<ConnectTicket>("POST", `/api/rooms/${encodeURIComponent(this.roomId)}/connect-ticket`);
        const wentLive = await this.#session(ticket);
        if (wentLive) attempt = 0;
      } catch (error) {
        const chatError = error instanceof ChatError ? error : new ChatError("internal", String(error));
        if (chatError.permanent) return this.#fail(chatError);
      }
      if (this.#closed) return;
      this.#setState("offline");
      await sleep(backoffDelay(attempt++));
    }
  }

  /** One socket's life. Resolves when it closes (true if it went live); rejects on a permanent refusal. */
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
      let chain = Promise.resolve();
      let reported = 0;
      const reportProgress = () => {
        if (wentLive && this.#lastSeq > reported && socket.readyState === 1) {
          reported = this.#lastSeq;
          socket.send(JSON.stringify({ type: "progress", seq: reported }));
        }
      };
      const heartbeat = setInterval(() => {
        if (Date.now() - lastFrameAt > DEAD_AFTER_MS) socket.close(4000, "heartbeat timeout");
        else if (socket.readyState === 1) socket.send(HEARTBEAT_REQUEST);
      }, HEARTBEAT_MS);
      const progress = setInterval(reportProgress, PROGRESS_EVERY_MS);

      socket.onopen = () => {
        const hello = { type: "hello", protocol: PROTOCOL_VERSION, ...(this.position ? { after: this.position } : {}) };
        socket.send(JSON.stringify(hello));
      };
      socket.onmessage = (event) => {
        lastFrameAt = Date.now();
        const text = typeof event.data === "string" ? event.data : String(event.data);
        if (text === HEARTBEAT_RESPONSE) return;
        let frame: ServerFrame;
        try {
          frame = ServerFrame.parse(JSON.parse(text));
        } catch {
          return; // A frame from a newer server that this SDK does not know: skip it.
        }
        chain = chain
          .then(() => this.#handle(frame, socket))
          .then((live) => {
            if (live && !wentLive) {
              wentLive = true;
              reported = this.#lastSeq;
              this.#setState("live");
              this.#settle();
            }
            if (this.#lastSeq - reported >= PROGRESS_EVERY_EVENTS) reportProgress();
          })
          .catch((error: unknown) => {
            // A gap fill failed (network): drop the socket and resume from the last applied event.
            if (error instanceof ChatError && error.permanent) this.#fail(error);
            socket.close(4000, "resync failed");
          });
      };
      socket.onerror = () => {
        // A close event always follows; reconnecting is decided there.
      };
      socket.onclose = (event) => {
        clearInterval(heartbeat);
        clearInterval(progress);
        if (this.#socket === socket) this.#socket = null;
        if (event.code === CloseCodes.notMember) return reject(new ChatError("not_member", "you are not a member of this room"));
        if (event.code === CloseCodes.roomDeleted) return reject(new ChatError("room_deleted", "the room was deleted"));
        if (event.code === CloseCodes.unsupportedProtocol) return reject(new ChatError("invalid_request", "protocol version not supported by the server"));
        resolve(wentLive);
      };
    });
  }

  /** Applies one frame. Returns true when the socket is now live. */
  async #handle(frame: ServerFrame, socket: WebSocketLike): Promise<boolean> {
    switch (frame.type) {
      case "live":
        if (this.#epoch === null) {
          this.#epoch = frame.epoch;
          this.#lastSeq = frame.seq;
        }
        return true;
      case "resync":
        await this.#resync(frame.reason, frame.epoch, frame.seq, frame.historyCursor);
        return false;
      case "event":
        if (frame.epoch !== this.#epoch) return false;
        if (frame.event.seq <= this.#lastSeq) return false; // a duplicate: already applied
        if (frame.event.seq !== this.#lastSeq + 1) {
          // Never expected: the server replays before going live. Resume to close the gap.
          socket.close(4000, "gap detected");
          return false;
        }
        this.#apply(frame.event);
        return false;
      case "presence":
        this.handlers.onPresence?.({ userId: frame.userId, online: frame.online, devices: frame.devices, lastSeen: frame.lastSeen });
        return false;
      case "typing": {
        const existing = this.#typing.get(frame.userId);
        if (existing) clearTimeout(existing);
        const ms = Math.max(0, Math.min(10_000, Date.parse(frame.expiresTs) - Date.now())) || 10_000;
        this.#typing.set(frame.userId, setTimeout(() => this.#stopTyping(frame.userId), ms));
        if (!existing) this.handlers.onTyping?.({ userId: frame.userId, typing: true, expiresTs: frame.expiresTs });
        return false;
      }
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

  #stopTyping(userId: string): void {
    const timer = this.#typing.get(userId);
    if (!timer) return;
    clearTimeout(timer);
    this.#typing.delete(userId);
    this.handlers.onTyping?.({ userId, typing: false });
  }

  #apply(event: RoomEvent): void {
    this.#lastSeq = event.seq;
    this.handlers.onEvent?.(event);
    switch (event.type) {
      case "message":
        this.#stopTyping(event.message.sender);
        return this.handlers.onMessage?.(event.message);
      case "message_edited":
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
  async #resync(reason: "epoch_changed" | "too_far_behind", epoch: string, seq: number, cursor: string): Promise<void> {
    if (reason === "epoch_changed" || this.#epoch !== epoch) {
      this.#epoch = epoch;
      this.#lastSeq = seq;
      this.handlers.onReset?.({ epoch, seq });
      return;
    }
    const path = `/api/rooms/${encodeURIComponent(this.roomId)}/messages`;
    let next: string | null = cursor;
    while (next) {
      const page: HistoryPage = await this.transport.request<HistoryPage>("GET", `${path}?limit=${GAP_FILL_PAGE}&cursor=${encodeURIComponent(next)}`);
      // Forward pages carry every event of the range, edits and deletions included.
      const events = page.events ?? page.messages.map((message): RoomEvent => ({ type: "message", seq: message.seq, ts: message.ts, message }));
      for (const event of events) {
        if (event.seq > this.#lastSeq && event.seq <= seq) this.#apply(event);
      }
      next = page.nextCursor;
    }
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }
}
