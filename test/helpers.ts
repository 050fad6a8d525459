/** Helpers for integration tests: tokens, JSON requests and sockets through the real Worker. */
import { SELF } from "cloudflare:test";
import { ServerFrame } from "../src/protocol";

const BASE = "https://chat.test";

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

/** A WebSocket opened through the Worker with a fresh connect ticket, collecting parsed frames. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  #waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      this.frames.push(ServerFrame.parse(JSON.parse(e.data as string)));
      this.#wake();
    });
    ws.addEventListener("close", (e) => {
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
