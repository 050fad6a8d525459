/**
 * A WebSocket that stays connected: the one connection loop under both room
 * subscriptions and the inbox. Per attempt it fetches a single-use ticket,
 * opens the socket, and watches it: a socket the server has not answered
 * within the connect timeout, or that has been silent (not even a pong) past
 * the dead-after time, is given up, because a half-open TCP connection never
 * reports its own death. Between attempts it waits a jittered backoff, reset
 * once a socket went live. Its owner decides what a frame means, when the
 * socket is live, and which close codes end it for good.
 */
import { type ConnectTicket, HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE } from "../protocol";
import { backoffDelay, sleep } from "./backoff";
import { ChatError } from "./errors";

export type ConnectionState = "connecting" | "live" | "offline";

/** The minimal WebSocket surface the SDK needs: browsers' and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: browsers' and ws's handlers take different event types, and both must fit.
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** One socket's life as its owner sees it. */
export interface Connection {
  /** Sends on the socket if it is open; false when it is not. */
  send(text: string): boolean;
  /** The server answered: the connect timeout no longer applies. */
  answered(): void;
  /** The socket is live (implies answered): state "live", `ready` resolves, the backoff starts over. */
  live(): void;
  /** Gives this socket up (closed with 4000 and `reason`) and connects again. */
  drop(reason: string): void;
  /** True once the socket closed or was given up: frames of it still queued must not be applied. */
  readonly ended: boolean;
  readonly isLive: boolean;
}

/** What the owner does with one socket. */
export interface SessionHandlers {
  onOpen?(): void;
  /** Every text frame but the heartbeat's answer. */
  onText(text: string): void;
  /** The socket closed or was given up. */
  onEnd?(): void;
}

export interface SocketTiming {
  /** A heartbeat is sent this often. */
  heartbeatMs: number;
  /** No frame (not even a pong) for this long means the connection is dead, even if no close came. */
  deadAfterMs: number;
  /** A socket not answered this long after it was created is given up and retried. */
  connectTimeoutMs: number;
}

export const DEFAULT_TIMING: SocketTiming = { heartbeatMs: 20_000, deadAfterMs: 50_000, connectTimeoutMs: 10_000 };

export interface ReconnectingSocketOptions {
  /** A fresh ticket for one socket; a permanent error ends the socket for good. */
  ticket(): Promise<ConnectTicket>;
  /** The API origin that ticket URLs are relative to. */
  baseUrl: string;
  WebSocketImpl: WebSocketConstructor;
  /** Called for each new socket. */
  session(connection: Connection): SessionHandlers;
  onState?(state: ConnectionState): void;
  /** The error a close code ends the socket with for good; undefined when reconnecting may help. */
  closeError?(code: number): ChatError | undefined;
  /** The socket ended for good on a permanent error (not after `close()`). */
  onFail?(error: ChatError): void;
  /** What `ready` rejects with (as `cancelled`) after `close()` before it went live. */
  closedMessage: string;
  timing?: SocketTiming;
}

interface Outcome {
  wentLive: boolean;
  /** The close code the server (or the network) ended the socket with; null when we gave it up. */
  code: number | null;
}

export class ReconnectingSocket {
  #closed = false;
  #state: ConnectionState = "connecting";
  #current: Session | null = null;
  readonly #stop = new AbortController();
  #settled = false;
  #resolve!: () => void;
  #reject!: (error: ChatError) => void;
  /** Resolves when the first socket goes live; rejects if the socket ends or is closed before. */
  readonly ready: Promise<void>;

  constructor(private readonly options: ReconnectingSocketOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** True after `close()` or a permanent failure: it will not connect again. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts connecting; the first state reported is "connecting". */
  start(): void {
    void this.#run();
  }

  /** Sends on the current socket if it is open. */
  send(text: string): boolean {
    return this.#current?.send(text) ?? false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#current?.end(null, 1000, "closed by client");
    this.#settle(new ChatError("cancelled", this.options.closedMessage));
  }

  /** Ends for good with a permanent error: state "offline", `ready` rejects, onFail hears it. */
  fail(error: ChatError): void {
    if (this.#closed) return;
    this.#setState("offline");
    this.#closed = true;
    this.#stop.abort();
    this.#current?.end(null, 1000, "closed by client");
    this.#settle(error);
    this.options.onFail?.(error);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#closed) return;
    this.#state = state;
    this.options.onState?.(state);
  }

  #settle(error?: ChatError): void {
    if (this.#settled) return;
    this.#settled = true;
    if (error) this.#reject(error);
    else this.#resolve();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    this.options.onState?.("connecting");
    while (!this.#closed) {
      this.#setState("connecting");
      try {
        const ticket = await this.options.ticket();
        if (this.#closed) return;
        const outcome = await this.#connect(ticket);
        if (outcome.wentLive) attempt = 0;
        const terminal = outcome.code === null ? undefined : this.options.closeError?.(outcome.code);
        if (terminal) throw terminal;
      } catch (error) {
        const chatError = error instanceof ChatError ? error : new ChatError("internal", String(error));
        if (chatError.permanent) return this.fail(chatError);
      }
      if (this.#closed) return;
      this.#setState("offline");
      try {
        await sleep(backoffDelay(attempt++), this.#stop.signal);
      } catch {
        return; // closed while waiting
      }
    }
  }

  /** One socket's life; resolves when it closes or is given up. */
  #connect(ticket: ConnectTicket): Promise<Outcome> {
    const url = new URL(ticket.url, this.options.baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocketImpl(url.toString());
    } catch (error) {
      return Promise.reject(new ChatError("network_error", `could not open a WebSocket: ${String(error)}`));
    }
    const session = new Session(socket, this.options.timing ?? DEFAULT_TIMING, () => {
      this.#setState("live");
      this.#settle();
    });
    this.#current = session;
    session.attach(this.options.session(session));
    return session.done.finally(() => {
      if (this.#current === session) this.#current = null;
    });
  }
}

/** One socket: its timers, its handlers, and how it ends. */
class Session implements Connection {
  #ended = false;
  #live = false;
  #answered = false;
  #lastFrameAt = Date.now();
  #handlers: SessionHandlers = { onText: () => undefined };
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #connectTimer: ReturnType<typeof setTimeout>;
  #finish!: (outcome: Outcome) => void;
  readonly done = new Promise<Outcome>((resolve) => {
    this.#finish = resolve;
  });

  constructor(
    private readonly socket: WebSocketLike,
    timing: SocketTiming,
    private readonly wentLive: () => void,
  ) {
    this.#heartbeat = setInterval(() => {
      if (Date.now() - this.#lastFrameAt > timing.deadAfterMs) this.drop("heartbeat timeout");
      else if (socket.readyState === 1) socket.send(HEARTBEAT_REQUEST);
    }, timing.heartbeatMs);
    this.#connectTimer = setTimeout(() => {
      if (!this.#answered) this.drop("connect timeout");
    }, timing.connectTimeoutMs);
  }

  get ended(): boolean {
    return this.#ended;
  }

  get isLive(): boolean {
    return this.#live;
  }

  attach(handlers: SessionHandlers): void {
    this.#handlers = handlers;
    const socket = this.socket;
    socket.onopen = () => handlers.onOpen?.();
    socket.onmessage = (event) => {
      this.#lastFrameAt = Date.now();
      const text = typeof event.data === "string" ? event.data : String(event.data);
      if (text !== HEARTBEAT_RESPONSE) handlers.onText(text);
    };
    socket.onerror = () => {
      // A close event always follows; what happens next is decided there.
    };
    socket.onclose = (event) => this.end(event.code);
  }

  send(text: string): boolean {
    if (this.#ended || this.socket.readyState !== 1) return false;
    this.socket.send(text);
    return true;
  }

  answered(): void {
    if (this.#answered) return;
    this.#answered = true;
    clearTimeout(this.#connectTimer);
  }

  live(): void {
    if (this.#ended || this.#live) return;
    this.answered();
    this.#live = true;
    this.wentLive();
  }

  drop(reason: string): void {
    this.end(null, 4000, reason);
  }

  /**
   * Ends the session: with the close the socket reported (`code`), or, when we
   * close it ourselves, at once, without waiting for a close event that a dead
   * connection may deliver only much later. Frames after that are ignored.
   */
  end(code: number | null, closeCode?: number, reason?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#connectTimer);
    const socket = this.socket;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    if (closeCode !== undefined) socket.close(closeCode, reason);
    this.#handlers.onEnd?.();
    this.#finish({ wentLive: this.#live, code });
  }
}
