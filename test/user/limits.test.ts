/**
 * The per-user send budget across rooms, kept in the user's UserLimits
 * object: the bucket (USER_SEND_PER_MINUTE) that every room asks before
 * storing a message, over HTTP and over the WebSocket, with the socket's
 * answers kept in frame order while a send waits for it. (The cap on live
 * sockets is connections.test.ts.)
 *
 * The test Worker runs with huge limits; each test lowers them on its own
 * user's object only.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ChatClient } from "../../src/client";
import type { ServerFrame } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import { TokenBuckets } from "../../src/kernel/token-bucket";
import { configOf } from "../../src/kernel/config";
import type { UserLimits } from "../../src/user/limits";
import { BASE, connect, errorOf, eventually, uniqueRoom, uniqueUser, user } from "../helpers";
import { gatedUserLimits } from "../room/helpers/gated-limits";

type User = Awaited<ReturnType<typeof user>>;
type ErrorFrame = Extract<ServerFrame, { type: "error" }>;

const limitsOf = (userId: string) => env.USER_LIMITS.getByName(userId);

async function setSendsPerMinute(userId: string, n: number): Promise<void> {
  await runInDurableObject(limitsOf(userId), (instance: UserLimits) => {
    instance.sendBucket = TokenBuckets.perMinute(n);
  });
}

/** A fresh user who owns `n` fresh rooms. */
async function ownerOfRooms(n: number): Promise<{ owner: User; rooms: string[] }> {
  const owner = await user(uniqueUser("limits"));
  const rooms = Array.from({ length: n }, () => uniqueRoom("xroom"));
  for (const room of rooms) expect((await owner.createRoom(room)).status).toBe(201);
  return { owner, rooms };
}

describe("configuration", () => {
  it("defaults to 100 messages a minute across rooms and 10 live connections per user", () => {
    expect(configOf({}).user).toMatchObject({ sendPerMinute: 100, maxConnections: 10 });
    expect(configOf({ USER_SEND_PER_MINUTE: "30", MAX_CONNECTIONS_PER_USER: "4" }).user).toMatchObject({ sendPerMinute: 30, maxConnections: 4 });
  });
});

describe("sends across rooms: one bucket per user", () => {
  it("refuses the send over the budget in any room with 429 rate_limited, retryAfter and the rate-limit headers; stores nothing", async () => {
    const { owner, rooms } = await ownerOfRooms(3);
    await setSendsPerMinute(owner.userId, 6);
    // Six sends spread over three rooms use up the user's minute; each room's own bucket is far from empty.
    for (let i = 0; i < 6; i++) expect((await owner.send(rooms[i % 3]!, `spread-${i}`)).status).toBe(201);

    const refused = await owner.send(rooms[0]!, "one too many");
    expect(errorOf(refused)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
    const error = refused.body.error;
    expect(error.message).toContain("across your rooms");
    // 6 a minute: one token every 10 s.
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(10);
    expect(error).toMatchObject({ limit: 6, remaining: 0 });
    expect(error.reset).toBeGreaterThan(0);
    expect(error.reset).toBeLessThanOrEqual(60);
    expect(refused.headers.get("Retry-After")).toBe(String(Math.max(1, Math.ceil(error.retryAfter))));
    expect(refused.headers.get("X-RateLimit-Limit")).toBe("6");
    expect(refused.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(refused.headers.get("X-RateLimit-Reset")).toBe(String(error.reset));

    const counts = await Promise.all(rooms.map(async (room) => (await owner.history(room, "limit=50")).body.messages.length));
    // Two messages in each room, none of the refused one.
    expect(counts).toEqual([2, 2, 2]);
  });

  it("answers a WebSocket send over the budget with an error frame carrying the same figures, and keeps the socket", async () => {
    const { owner, rooms } = await ownerOfRooms(2);
    await setSendsPerMinute(owner.userId, 3);
    for (let i = 0; i < 3; i++) expect((await owner.send(rooms[0]!, `http-${i}`)).status).toBe(201);
    const socket = await connect(owner.token, rooms[1]!);
    socket.send({ type: "send", reqId: "over", content: "over the budget" });
    socket.send({ type: "ping", reqId: "after" });
    const error = (await socket.waitFor((f) => f.type === "error")) as ErrorFrame;
    expect(error.reqId).toBe("over");
    expect(error.error).toMatchObject({ code: "rate_limited", limit: 3, remaining: 0 });
    expect(error.error.retryAfter).toBeGreaterThan(0);
    expect(error.error.retryAfter).toBeLessThanOrEqual(20);
    expect(error.error.reset).toBeGreaterThan(0);
    // Answers keep frame order: the ping sent after the refused send is answered after it.
    await socket.waitFor((f) => f.type === "pong");
    const order = socket.frames.filter((f) => f.type === "error" || f.type === "pong").map((f) => f.type);
    expect(order).toEqual(["error", "pong"]);
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("keeps a socket's answers in frame order while a send waits for the user's object, and closes a socket that piles frames up behind it", async () => {
    const { owner, rooms } = await ownerOfRooms(1);
    const room = rooms[0]!;
    await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      (instance.core.limits as { frameBurst: number }).frameBurst = 5;
    });
    // A user object that answers only when the test says (one call per send).
    const limits = await gatedUserLimits(room, { batches: false });
    const socket = await connect(owner.token, room);
    const before = limits.received.length;
    socket.send({ type: "send", reqId: "slow", content: "waits" });
    for (let i = 0; i < 3; i++) socket.send({ type: "ping", reqId: `p${i}` });
    // The room has taken in the send and the three pings, and the send still waits: no ping is answered.
    await eventually(async () => (limits.received.length >= before + 4 ? true : undefined), 5000, "the room to take in the four frames");
    expect(socket.frames.filter((f) => f.type === "pong")).toEqual([]);
    limits.open();
    // Frames on one socket arrive in order: a pong the room had sent at once would come before the ack.
    await socket.waitFor((f) => f.type === "pong" && f.reqId === "p2");
    expect(socket.frames.filter((f) => f.type === "ack" || f.type === "pong").map((f) => f.reqId)).toEqual(["slow", "p0", "p1", "p2"]);

    // While a second send waits, more frames pile up behind it than the burst allows: the socket is closed.
    const again = await gatedUserLimits(room, { batches: false });
    socket.send({ type: "send", reqId: "slow-2", content: "waits too" });
    for (let i = 0; i < 6; i++) socket.send({ type: "ping", reqId: `q${i}` });
    expect((await socket.waitClosed()).code).toBe(4029);
    again.open();
  });

  it("costs nothing for a retry of a stored message, and limits only that user", async () => {
    const { owner, rooms } = await ownerOfRooms(1);
    const other = await user(uniqueUser("other"));
    expect((await other.join(rooms[0]!)).status).toBe(200);
    await setSendsPerMinute(owner.userId, 2);
    const first = await owner.send(rooms[0]!, "first", "c-1");
    expect(first.status).toBe(201);
    expect((await owner.send(rooms[0]!, "second", "c-2")).status).toBe(201);
    // The budget is spent, yet a retry of a stored clientId is answered with the original.
    const retry = await owner.send(rooms[0]!, "first", "c-1");
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect((await owner.send(rooms[0]!, "third", "c-3")).status).toBe(429);
    expect((await other.send(rooms[0]!, "someone else")).status).toBe(201);
  });

  it("the SDK waits out a cross-room refusal (Retry-After) and then delivers the send", async () => {
    const { owner, rooms } = await ownerOfRooms(2);
    // 30 a minute: a refused send may go again within two seconds.
    await setSendsPerMinute(owner.userId, 30);
    const statuses: number[] = [];
    const chat = new ChatClient({
      baseUrl: BASE,
      token: owner.token,
      fetch: async (input, init) => {
        const res = await SELF.fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    await Promise.all(Array.from({ length: 30 }, (_, i) => owner.send(rooms[0]!, `fill-${i}`)));
    const message = await chat.sendMessage(rooms[1]!, "after the wait");
    expect(message.content).toBe("after the wait");
    expect(statuses).toEqual([429, 201]);
    const page = await owner.history(rooms[1]!, "limit=10");
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual(["after the wait"]);
    chat.close();
  });
});
