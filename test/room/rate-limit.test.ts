/**
 * The send rate limit: a token bucket per user per room, over HTTP and over
 * the WebSocket with the same figures, refilled over time, per user, not
 * charged for retries of a stored clientId, and one bucket for both paths.
 *
 * The test Worker runs with huge send limits; each test lowers them for its
 * own room object only.
 */
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import { api, connect, errorOf, uniqueRoom } from "../helpers";
import { manualClockOn } from "./helpers/clock";
import { type User, limitSends, roomOf as roomWith, stubOf } from "./helpers/rooms";

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;
type AckFrame = Extract<ServerFrame, { type: "ack" }>;

const roomOf = (...names: string[]) => roomWith("limits", ...names);

/** Takes `n` sends from the user's bucket through the room's RPC (fast: no HTTP in between). */
async function burst(userId: string, room: string, n: number, prefix = "b") {
  const stub = stubOf(room);
  const results = [];
  for (let i = 0; i < n; i++) results.push(await stub.sendMessage(userId, { content: `${prefix}-${i}` }));
  return results;
}

/**
 * Sends over HTTP until one is refused (the bucket refills slowly, so it
 * takes one or two); `accepted` counts those stored before the refusal.
 */
async function sendUntilRefused(u: User, room: string, max = 5) {
  let accepted = 0;
  for (let i = 0; i < max; i++) {
    const res = await u.send(room, `extra-${i}`);
    if (res.status !== 201) return Object.assign(res, { accepted });
    accepted++;
  }
  throw new Error(`no send refused in ${max} tries`);
}

describe("send rate limit: a token bucket per user per room", () => {
  it("allows a burst of 20, then answers 429 rate_limited with retryAfter, Retry-After and X-RateLimit-* headers", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const started = Date.now();
    const results = await burst(alice.userId, room, 25);
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = results.filter((r) => r.ok).length;
    // The first 20 always pass; at most what refilled meanwhile (1/s) passes after them.
    expect(results.slice(0, 20).every((r) => r.ok)).toBe(true);
    expect(allowed).toBeLessThanOrEqual(20 + Math.ceil(elapsedS));
    for (const refused of results.filter((r) => !r.ok)) expect(!refused.ok && refused.error.code).toBe("rate_limited");

    const res = await sendUntilRefused(alice, room);
    expect(errorOf(res)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
    const error = res.body.error;
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(1);
    expect(error.limit).toBe(20);
    expect(error.remaining).toBe(0);
    expect(error.reset).toBeGreaterThan(0);
    expect(error.reset).toBeLessThanOrEqual(20);
    expect(res.headers.get("Retry-After")).toBe(String(Math.max(1, Math.ceil(error.retryAfter))));
    expect(res.headers.get("X-RateLimit-Limit")).toBe("20");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(res.headers.get("X-RateLimit-Reset")).toBe(String(error.reset));
    // A refused send stores nothing.
    const page = await alice.history(room, "limit=200");
    expect(page.body.messages.length).toBe(allowed + res.accepted);
  });

  it("sends the same figures in the WebSocket error frame, naming the request", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const socket = await connect(alice.token, room);
    for (let i = 0; i < 25; i++) socket.send({ type: "send", reqId: `r${i}`, content: `ws-${i}` });
    await socket.sync();
    const acks = socket.frames.filter((f): f is AckFrame => f.type === "ack");
    const errors = socket.frames.filter((f): f is ErrorFrame => f.type === "error");
    expect(acks.length).toBeGreaterThanOrEqual(20);
    expect(acks.slice(0, 20).map((a) => a.reqId)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(acks.length + errors.length).toBe(25);
    expect(errors.length).toBeGreaterThan(0);
    for (const frame of errors) {
      expect(frame.reqId).toMatch(/^r\d+$/);
      expect(Number(frame.reqId!.slice(1))).toBeGreaterThanOrEqual(20);
      expect(frame.error).toMatchObject({ code: "rate_limited", limit: 20, remaining: 0 });
      expect(frame.error.retryAfter).toBeGreaterThan(0);
      expect(frame.error.retryAfter).toBeLessThanOrEqual(1);
      expect(frame.error.reset).toBeGreaterThan(0);
    }
    socket.close();
  });

  it("refills: once retryAfter has passed the next send is stored", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room, 2, 20);
    const clock = await manualClockOn(stubOf(room));
    await burst(alice.userId, room, 20);
    const refused = await sendUntilRefused(alice, room);
    expect(refused.status).toBe(429);
    const waitMs = refused.body.error.retryAfter * 1000;
    // Halfway there the token has not refilled yet.
    clock.advance(waitMs / 2);
    expect((await alice.send(room, "too soon")).status).toBe(429);
    clock.advance(waitMs / 2 + 1);
    const res = await alice.send(room, "after the wait");
    expect(res.status).toBe(201);
  });

  it("limits each user on their own: others in the room, and the same user elsewhere, are unaffected", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    await limitSends(room);
    const other = uniqueRoom("limits");
    expect((await alice.createRoom(other)).status).toBe(201);
    await limitSends(other);
    await burst(alice.userId, room, 20);
    expect((await sendUntilRefused(alice, room)).status).toBe(429);
    expect((await bob.send(room, "bob is fine")).status).toBe(201);
    expect((await alice.send(other, "alice is fine here")).status).toBe(201);
    // And bob's bucket is his own full one.
    const bobs = await burst(bob.userId, room, 19);
    expect(bobs.every((r) => r.ok)).toBe(true);
  });

  it("does not count retries of a stored clientId: they are answered with the original even with an empty bucket", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const stub = stubOf(room);
    const originals = [];
    for (let i = 0; i < 20; i++) {
      const result = await stub.sendMessage(alice.userId, { content: `once-${i}`, clientId: `c-${i}` });
      expect(result.ok).toBe(true);
      originals.push(result.ok ? result.value : null);
    }
    // The bucket is empty: retries of every stored clientId still answer at once, over HTTP too.
    for (let i = 0; i < 20; i++) {
      const retry = await stub.sendMessage(alice.userId, { content: `once-${i}`, clientId: `c-${i}` });
      expect(retry.ok && retry.value.id).toBe(originals[i]!.id);
    }
    const viaHttp = await alice.send(room, "once-3", "c-3");
    expect(viaHttp.status).toBe(201);
    expect(viaHttp.body.id).toBe(originals[3]!.id);
    // While a new clientId is refused (retry until the slow refill is spent).
    let refused = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await alice.send(room, "new", `new-${i}`);
      if (res.status === 429) refused = res;
    }
    expect(refused && errorOf(refused).code).toBe("rate_limited");
    const page = await alice.history(room, "limit=200");
    expect(page.body.messages.filter((m: { clientId?: string }) => m.clientId?.startsWith("c-")).length).toBe(20);
  });
});

describe("HTTP and WebSocket share one bucket", () => {
  it("sends over HTTP and over the socket draw from the same 20", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    // Almost no refill: however slow the ten HTTP sends, they leave ten tokens at most.
    await limitSends(room, 0.05, 20);
    const socket = await connect(alice.token, room);
    for (let i = 0; i < 10; i++) expect((await api("POST", `/api/rooms/${room}/messages`, { token: alice.token, body: { content: `h${i}` } })).status).toBe(201);
    for (let i = 0; i < 15; i++) socket.send({ type: "send", reqId: `s${i}`, content: `s${i}` });
    await socket.sync();
    const acks = socket.frames.filter((f) => f.type === "ack").length;
    const refused = socket.frames.filter((f) => f.type === "error" && f.error.code === "rate_limited").length;
    expect(acks + refused).toBe(15);
    expect(acks).toBe(10);
    expect(refused).toBe(5);
    socket.close();
  });
});
