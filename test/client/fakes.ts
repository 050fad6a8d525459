/**
 * A fake network for the SDK's unit tests, in plain Node: a WebSocket class
 * whose sockets the test drives as the server would (accept, frames, closes),
 * and a fetch that answers from routes the test declares. Nothing here keeps
 * time of its own, so tests run under vitest's fake timers.
 */
import { vi } from "vitest";
import { ChatClient, type Message, type RoomEvent, type WebSocketConstructor, type WebSocketLike } from "../../src/client";

export const BASE_URL = "https://chat.test";
export const TS = "2026-01-01T00:00:00.000Z";

/** One socket as the server sees it. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  /** Every frame the client sent, heartbeats included. */
  readonly sent: string[] = [];
  /** How the client closed it, if it did. */
  closedBy: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedBy = { code, reason };
    this.readyState = 3;
    // Like a real socket, the close event comes later, never inside close().
    void Promise.resolve().then(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? "" }));
  }

  // ---- the server's side

  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  frame(frame: object | string): void {
    if (this.readyState !== 1) throw new Error("frame on a socket that is not open");
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  /** The server (or the network) ends the connection. */
  drop(code = 1006, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The JSON frames the client sent (heartbeats left out). */
  get frames(): Array<Record<string, unknown>> {
    return this.sent.filter((text) => text !== "ping").map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  get pings(): number {
    return this.sent.filter((text) => text === "ping").length;
  }
}

/** A WebSocket class of its own per test, and the sockets made with it, in order. */
export function fakeSockets(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class TestSocket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: TestSocket, sockets };
}

export interface FakeRequest {
  method: string;
  path: string;
  url: URL;
  body: unknown;
}

type Answer = Response | Promise<Response>;
type Handler = (request: FakeRequest) => Answer;

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export const errorAnswer = (code: string, status: number, headers: Record<string, string> = {}): Response =>
  json({ error: { code, message: code } }, status, headers);

/** A fetch answering from declared routes; every request is recorded. */
export function fakeServer() {
  const routes: Array<{ method: string; path: string | RegExp; handler: Handler }> = [];
  const requests: FakeRequest[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const method = init.method ?? "GET";
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : init.body;
    const request = { method, path: url.pathname, url, body };
    requests.push(request);
    const route = routes.find((r) => r.method === method && (typeof r.path === "string" ? r.path === url.pathname : r.path.test(url.pathname)));
    if (!route) return errorAnswer("not_found", 404);
    return route.handler(request);
  };
  return {
    fetch: fetch as typeof globalThis.fetch,
    requests,
    on(method: string, path: string | RegExp, handler: Handler): void {
      routes.unshift({ method, path, handler });
    },
    /** Tickets for a room's socket and the inbox's, numbered so each socket's URL is distinct. */
    tickets(): void {
      let n = 0;
      this.on("POST", /^\/api\/rooms\/[^/]+\/connect-ticket$/, (r) => {
        const room = r.path.split("/")[3]!;
        n++;
        return json({ ticket: `t${n}`, url: `/api/rooms/${room}/ws?ticket=t${n}`, expiresTs: TS });
      });
      this.on("POST", "/api/inbox/connect-ticket", () => {
        n++;
        return json({ ticket: `t${n}`, url: `/api/inbox/ws?user=bob&ticket=t${n}`, expiresTs: TS });
      });
    },
  };
}

export type FakeServer = ReturnType<typeof fakeServer>;

export function client(server: FakeServer, WebSocket?: WebSocketConstructor): ChatClient {
  return new ChatClient({ baseUrl: BASE_URL, token: "token", fetch: server.fetch, WebSocket });
}

export function message(seq: number, content = `m${seq}`, roomId = "room"): Message {
  return { id: `msg${seq}`, roomId, seq, sender: "alice", content, ts: TS };
}

export function messageEvent(seq: number, roomId = "room"): Extract<RoomEvent, { type: "message" }> {
  return { type: "message", seq, ts: TS, message: message(seq, `m${seq}`, roomId) };
}

export const eventFrame = (epoch: string, seq: number, roomId = "room") => ({ type: "event", roomId, epoch, seq, event: messageEvent(seq, roomId) });
export const liveFrame = (epoch: string, seq: number, roomId = "room") => ({ type: "live", roomId, epoch, seq });

/**
 * Lets the SDK's promise chains run (HTTP answers, frame handling) without
 * moving the fake clock, until `check` holds: a barrier, not a sleep.
 */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 200; turn++) {
    if (check()) return;
    await vi.advanceTimersByTimeAsync(0);
  }
  throw new Error(`never happened: ${what}`);
}

/** The n-th socket (0-based), once the SDK has opened it. */
export async function socketNo(sockets: FakeSocket[], n: number): Promise<FakeSocket> {
  await until(() => sockets.length > n, `socket ${n} opened`);
  return sockets[n]!;
}

/** A promise the test resolves when it chooses (e.g. to hold an HTTP answer back). */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
