/** Helpers for integration tests: tokens, JSON requests and sockets through the real Worker. */
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { HEARTBEAT_RESPONSE, ServerFrame } from "../src/protocol";
import type { Room } from "../src/room/room";

const BASE = "https://localhost";

let counter = 0;
/** A room id no other test uses. */
export const uniqueRoom = (prefix = "room") => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export async function tokenFor(userId: string, admin = false): Promise<string> {
  const res = await SELF.fetch(`${BASE}/api/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId, admin }),
  });
  if (res.status !== 200) throw new Error(`dev token: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  const res = await SELF.fetch(`${BASE}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** A user with a token, and the calls tests make most. */
export async function user(userId: string) {
  const token = await tokenFor(userId);
  return {
    userId,
    token,
    call: <T = any>(method: string, path: string, body?: unknown) => api<T>(method, path, { token, body }),
    createRoom: (roomId: string) => api("POST", "/api/rooms", { token, body: { roomId } }),
    join: (roomId: string) => api("POST", `/api/rooms/${roomId}/join`, { token }),
    leave: (roomId: string) => api("POST", `/api/rooms/${roomId}/leave`, { token }),
    send: (roomId: string, content: unknown, clientId?: string) =>
      api("POST", `/api/rooms/${roomId}/messages`, { token, body: clientId === undefined ? { content } : { content, clientId } }),
    history: (roomId: string, query = "") => api("GET", `/api/rooms/${roomId}/messages${query ? `?${query}` : ""}`, { token }),
  };
}

const openSockets = new Set<TestSocket>();

/**
 * Closes every socket a test file left open, and waits for the room to hear
 * it: a close handled only as the file's worker shuts down gives back its
 * connection lease after vitest has stopped answering (EnvironmentTeardownError).
 */
export async function closeOpenSockets(): Promise<void> {
  const open = [...openSockets];
  for (const socket of open) socket.close();
  await Promise.all(open.map((socket) => socket.waitClosed(2000).catch(() => undefined)));
  if (open.length > 0) await new Promise((r) => setTimeout(r, 100));
}

/** A WebSocket opened through the Worker with a fresh connect ticket, collecting parsed frames. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  /** Every text frame as received, valid or not (heartbeat replies are plain text). */
  readonly raw: string[] = [];
  /** Frames that are neither a heartbeat reply nor a valid ServerFrame; waitFor fails on them. */
  readonly invalid: Array<{ data: unknown; error: string }> = [];
  closed: { code: number; reason: string } | null = null;
  #waiters: Array<() => void> = [];
  #pings = 0;

  constructor(readonly ws: WebSocket) {
    openSockets.add(this);
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") {
        this.invalid.push({ data: e.data, error: "binary frame from server" });
      } else {
        this.raw.push(e.data);
        if (e.data !== HEARTBEAT_RESPONSE) {
          try {
            this.frames.push(ServerFrame.parse(JSON.parse(e.data)));
          } catch (error) {
            this.invalid.push({ data: e.data, error: String(error) });
          }
        }
      }
      this.#wake();
    });
    ws.addEventListener("close", (e) => {
      openSockets.delete(this);
      this.closed = { code: e.code, reason: e.reason };
      this.#wake();
    });
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until `predicate` holds for some frame (after index `from`), or fails after `ms`. */
  async waitFor<T extends ServerFrame>(predicate: (f: ServerFrame) => f is T, ms?: number, from?: number): Promise<T>;
  async waitFor(predicate: (f: ServerFrame) => boolean, ms?: number, from?: number): Promise<ServerFrame>;
  async waitFor(predicate: (f: ServerFrame) => boolean, ms = 3000, from = 0): Promise<ServerFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.invalid.length > 0) throw new Error(`server sent an invalid frame: ${JSON.stringify(this.invalid[0])}`);
      const found = this.frames.slice(from).find(predicate);
      if (found) return found;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until a raw text frame equal to `text` arrives. */
  async waitForRaw(text: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.raw.includes(text)) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for ${text}`);
      if (Date.now() >= deadline) throw new Error(`timed out waiting for raw ${text}; raw: ${JSON.stringify(this.raw)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A ping/pong round trip. Frames on one socket arrive in order, so once the
   * pong is here every frame the room sent before it has arrived too.
   */
  async sync(ms = 3000): Promise<void> {
    const reqId = `sync-${++this.#pings}`;
    this.send({ type: "ping", reqId });
    await this.waitFor((f) => f.type === "pong" && f.reqId === reqId, ms);
  }

  async waitClosed(ms = 3000) {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) throw new Error("socket did not close");
    return this.closed;
  }

  close() {
    try {
      this.ws.close(1000, "done");
    } catch {}
  }
}

/** Opens a room socket for a user. Sends `hello` unless `hello: false`; resolves once live. */
export async function connect(token: string, roomId: string, opts: { hello?: boolean; after?: { epoch: string; seq: number }; origin?: string } = {}) {
  const ticket = await api<{ url: string }>("POST", `/api/rooms/${roomId}/connect-ticket`, { token });
  if (ticket.status !== 200) throw new Error(`ticket: ${ticket.status} ${JSON.stringify(ticket.body)}`);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (opts.origin) headers.Origin = opts.origin;
  const res = await SELF.fetch(`${BASE}${ticket.body.url}`, { headers });
  if (!res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  res.webSocket.accept();
  const socket = new TestSocket(res.webSocket);
  if (opts.hello !== false) {
    socket.send({ type: "hello", protocol: 1, ...(opts.after ? { after: opts.after } : {}) });
    await socket.waitFor((f) => f.type === "live" || f.type === "resync");
  }
  return socket;
}

// ---- additions for the chat-core suites ---------------------------------------

export { BASE };

let userCounter = 0;
/** A user id no other test uses (for D1-backed reads such as GET /api/rooms). */
export const uniqueUser = (prefix = "user") => `${prefix}-${Date.now().toString(36)}-${(userCounter++).toString(36)}`;

/** ISO 8601 UTC with milliseconds, as the wire format promises. */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The secret the test Worker is configured with (vitest.config.ts). */
export const TEST_AUTH_SECRET = "test-only-secret-with-enough-length-0123456789";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Runs the room's alarm until its outbox is empty: once this returns, every
 * row the room had to project (D1 index, audit, sync log) or deliver (inbox
 * notices, push jobs) has been handed on. The barrier for "nothing more
 * arrives", instead of waiting out the flush delay.
 */
export async function drainOutbox(stub: DurableObjectStub<Room>, maxRuns = 50): Promise<void> {
  for (let run = 0; await runInDurableObject(stub, (r: Room) => r.core.outbox.pending > 0); run++) {
    if (run >= maxRuns) throw new Error(`outbox not drained after ${maxRuns} alarm runs`);
    await runDurableObjectAlarm(stub);
  }
}

/**
 * Waits until the clock has moved past `ts` (ms or an ISO string): what a test
 * needs before a change that must carry a later timestamp than one it has.
 */
export async function clockPast(ts: number | string, ms = 2000): Promise<void> {
  const after = typeof ts === "string" ? Date.parse(ts) : ts;
  await eventually(async () => (Date.now() > after ? true : undefined), ms, `the clock to pass ${after}`);
}

/**
 * Waits, if need be, for the next minute of the clock: limiters that count in
 * clock-aligned minutes (the pool's Rate Limiting emulation) then give a test
 * at least `60 s - maxIntoWindow` in one window.
 */
export async function freshMinute(maxIntoWindow: number): Promise<void> {
  if (Date.now() % 60_000 <= maxIntoWindow) return;
  // Wait for the minute to change, not for its first second: a poll delayed past that second
  // on a loaded machine would otherwise wait a whole minute more.
  const minute = Math.floor(Date.now() / 60_000);
  await eventually(async () => (Math.floor(Date.now() / 60_000) > minute ? true : undefined), 61_000, "the next minute");
}

/** Asserts-friendly view of an error answer: `{ status, code }`, plus the message type check. */
export function errorOf(res: ApiResponse): { status: number; code: unknown; hasMessage: boolean } {
  const error = res.body?.error;
  return { status: res.status, code: error?.code, hasMessage: typeof error?.message === "string" && error.message.length > 0 };
}

/** Opens a raw WebSocket upgrade through the Worker and returns the response, accepted or not. */
export async function upgrade(url: string, opts: { origin?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers, Upgrade: "websocket" };
  if (opts.origin) headers.Origin = opts.origin;
  return SELF.fetch(`${BASE}${url}`, { headers });
}

/** Wraps an accepted upgrade response in a TestSocket (without sending hello). */
export function socketOf(res: Response): TestSocket {
  if (!res.webSocket) throw new Error(`upgrade failed: ${res.status}`);
  res.webSocket.accept();
  return new TestSocket(res.webSocket);
}

/** Frames of one type, typed. */
export function framesOf<K extends ServerFrame["type"]>(socket: TestSocket, type: K): Extract<ServerFrame, { type: K }>[] {
  return socket.frames.filter((f): f is Extract<ServerFrame, { type: K }> => f.type === type);
}

/** The messages a socket received as live/replayed events, in arrival order. */
export function messageEvents(socket: TestSocket) {
  return framesOf(socket, "event").flatMap((f) => (f.event.type === "message" ? [f.event.message] : []));
}
