/**
 * Helpers for the delivery suites (live delivery, resume, eviction, devices,
 * clientId retries, slow consumer, heartbeat, malformed frames, the
 * dead-socket sweep). Built only on the exported helpers of ../helpers.
 */
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";
import type { Message, ServerFrame } from "../../src/protocol";
import { type TestSocket, api, user, uniqueRoom } from "../helpers";

const BASE = "https://localhost";

export type EventFrame = Extract<ServerFrame, { type: "event" }>;
export type TestUser = Awaited<ReturnType<typeof user>>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The room object behind a room id. */
export const roomStub = (roomId: string) => env.ROOMS.getByName(roomId);

/** Integers from..to, both included (empty when to < from). */
export function range(from: number, to: number): number[] {
  return to < from ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Frames that are never stored and may arrive between any two others (presence, typing, receipts). */
const EPHEMERAL = new Set(["presence", "typing", "receipt"]);

/** What a socket received, ephemeral frames left out: what the delivery promises are about. */
export function deliveryFrames(socket: TestSocket): ServerFrame[] {
  return socket.frames.filter((f) => !EPHEMERAL.has(f.type));
}

/** The event frames a socket received, in arrival order. */
export function eventsOf(socket: TestSocket): EventFrame[] {
  return socket.frames.filter((f): f is EventFrame => f.type === "event");
}

export function seqsOf(socket: TestSocket): number[] {
  return eventsOf(socket).map((f) => f.seq);
}

/** The messages carried by a socket's event frames, in arrival order. */
export function messagesOf(socket: TestSocket): Message[] {
  return eventsOf(socket).flatMap((f) => (f.event.type === "message" ? [f.event.message] : []));
}

/** Waits until the socket has received the event with this seq (or a later one), or fails after `ms`. */
export function waitForSeq(socket: TestSocket, seq: number, ms = 5000): Promise<EventFrame> {
  return socket.waitFor((f): f is EventFrame => f.type === "event" && f.seq >= seq, ms);
}

/** The room's epoch and head, as a member reads them from history. */
export async function roomPosition(member: TestUser, roomId: string): Promise<{ epoch: string; head: number }> {
  const res = await member.history(roomId, "limit=1");
  expect(res.status).toBe(200);
  return { epoch: res.body.epoch, head: res.body.headSeq };
}

/** Sends `n` messages over HTTP, `concurrency` at a time; returns the stored messages ordered by seq. */
export async function sendMany(member: TestUser, roomId: string, n: number, prefix = "m", concurrency = 1): Promise<Message[]> {
  const stored: Message[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = range(i, Math.min(n, i + concurrency) - 1);
    const answers = await Promise.all(batch.map((j) => member.send(roomId, `${prefix}-${j}`)));
    for (const res of answers) {
      if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
      stored.push(res.body as Message);
    }
  }
  return stored.sort((a, b) => a.seq - b.seq);
}

/**
 * Stores `n` messages through the room object's RPC, the call the HTTP route
 * makes once it has authenticated the sender. Used for bulk loads: under the
 * test pool every `SELF.fetch` gets slower the more a file has made
 * (cloudflare/workers-sdk#15446), so hundreds of HTTP sends would dominate
 * the run time.
 */
export async function storeMany(userId: string, roomId: string, n: number, prefix = "m", concurrency = 10): Promise<Message[]> {
  const stub = roomStub(roomId);
  const stored: Message[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = range(i, Math.min(n, i + concurrency) - 1);
    const results = await Promise.all(batch.map((j) => stub.sendMessage(userId, { content: `${prefix}-${j}` })));
    for (const result of results) {
      if (!result.ok) throw new Error(`send: ${JSON.stringify(result.error)}`);
      stored.push(result.value as Message);
    }
  }
  return stored.sort((a, b) => a.seq - b.seq);
}

/** Every message of a room, oldest first, read forward with afterSeq=0 and nextCursor. */
export async function allMessages(member: TestUser, roomId: string): Promise<Message[]> {
  const out: Message[] = [];
  let query = "afterSeq=0&limit=200";
  for (let pages = 0; pages < 100; pages++) {
    const res = await member.history(roomId, query);
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...(res.body.messages as Message[]));
    if (res.body.nextCursor === null) return out;
    query = `cursor=${encodeURIComponent(res.body.nextCursor)}&limit=200`;
  }
  throw new Error("history did not end");
}

/**
 * A fresh room owned by alice with `n` messages already sent: over HTTP for a
 * few dozen, through the room's RPC (see storeMany) for more.
 */
export async function roomWithMessages(n: number, prefix = "dlv", via: "http" | "rpc" = n <= 50 ? "http" : "rpc") {
  const alice = await user("alice");
  const roomId = uniqueRoom(prefix);
  const created = await alice.createRoom(roomId);
  expect(created.status).toBe(201);
  const sent = via === "http" ? await sendMany(alice, roomId, n, "m") : await storeMany(alice.userId, roomId, n, "m");
  const { epoch, head } = await roomPosition(alice, roomId);
  return { alice, roomId, sent, epoch, head };
}

/** Asserts that `seqs` is exactly from..to, in order (no gap, no duplicate, no reordering). */
export function expectSeqs(seqs: number[], from: number, to: number): void {
  expect(seqs).toEqual(range(from, to));
}

/**
 * Makes a TestSocket behave like a well-behaved client: after every `every`
 * events it reports the latest seq it received with a `progress` frame.
 */
export function reportProgress(socket: TestSocket, every: number): void {
  let count = 0;
  socket.ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string" || !e.data.startsWith("{")) return;
    const frame = JSON.parse(e.data) as { type?: string; seq?: number };
    if (frame.type !== "event" || typeof frame.seq !== "number") return;
    if (++count % every === 0) {
      try {
        socket.ws.send(JSON.stringify({ type: "progress", seq: frame.seq }));
      } catch {
        // Closed meanwhile: the test's assertions will say so.
      }
    }
  });
}

/**
 * A room socket that keeps every text frame as it arrived, unparsed: for the
 * heartbeat ("ping" / "pong"), which is not JSON.
 */
export class RawSocket {
  readonly texts: string[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      this.texts.push(typeof e.data === "string" ? e.data : `<binary ${(e.data as ArrayBuffer).byteLength}>`);
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
    });
  }

  static async open(member: TestUser, roomId: string): Promise<RawSocket> {
    const ticket = await api<{ url: string }>("POST", `/api/rooms/${roomId}/connect-ticket`, { token: member.token });
    if (ticket.status !== 200) throw new Error(`ticket: ${ticket.status} ${JSON.stringify(ticket.body)}`);
    const res = await SELF.fetch(`${BASE}${ticket.body.url}`, { headers: { Upgrade: "websocket" } });
    if (!res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
    res.webSocket.accept();
    return new RawSocket(res.webSocket);
  }

  send(data: string | ArrayBuffer): void {
    this.ws.send(data);
  }

  /** JSON frames received so far (the heartbeat answers left out). */
  get frames(): Array<Record<string, any>> {
    return this.texts.filter((t) => t.startsWith("{")).map((t) => JSON.parse(t) as Record<string, any>);
  }

  /** Waits until `count` texts satisfying `predicate` have arrived, or fails after `ms`. */
  async waitForText(predicate: (text: string) => boolean, count = 1, ms = 3000): Promise<string[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.texts.filter(predicate);
      if (found.length >= count) return found;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting; texts: ${JSON.stringify(this.texts)}`);
      if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms; texts: ${JSON.stringify(this.texts)}`);
      await sleep(10);
    }
  }

  async waitClosed(ms = 3000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await sleep(10);
    if (!this.closed) throw new Error("socket did not close");
    return this.closed;
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // Already closed.
    }
  }
}
