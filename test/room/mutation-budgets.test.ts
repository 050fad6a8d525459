/**
 * Every mutation passes a per-user budget (issue 15, item 2): in-room ones
 * (edits, deletions, moderation, settings) in the room's own buckets, read
 * marks and typing frames in its signal bucket, cross-room ones (creation,
 * joins, leaves, tickets, mutes, push subscriptions, privacy settings) in the
 * user's UserLimits. A refusal is `429 rate_limited` with the same fields and
 * headers as a refused send. An edit that changes nothing stores nothing; the
 * outbox has a cap with back-pressure.
 *
 * The test Worker runs with huge budgets; each test lowers them on its own
 * room instance or user object, and holds the clock still so nothing refills.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import type { RoomBudgets } from "../../src/room/budgets";
import type { Room } from "../../src/room/room";
import type { UserLimits } from "../../src/user/limits";
import { api, connect, errorOf, uniqueRoom, uniqueUser, user } from "../helpers";
import { manualClockOn } from "./helpers/clock";
import { type User, roomOf as roomWith, stubOf } from "./helpers/rooms";

const roomOf = (...names: string[]) => roomWith("budgets", ...names);

type Limits = { mutationsPerMinute: number; readsPerMinute: number; signalsPerMinute: number; outboxMaxPending: number };

/** Lowers the room's budgets on its instance (and stops its clock, so nothing refills). */
async function limitRoom(room: string, lower: Partial<Limits>): Promise<void> {
  await manualClockOn(stubOf(room));
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const core = instance.core as unknown as { limits: Limits; clock: unknown; budgets: RoomBudgets };
    Object.assign(core.limits, lower);
    core.budgets = new (core.budgets.constructor as new (l: Limits, c: unknown) => RoomBudgets)(core.limits, core.clock);
  });
}

/** Lowers one user's cross-room budgets on their UserLimits object. */
async function limitUser(userId: string, mutations: number, reads = 1_000_000): Promise<void> {
  const stub = env.USER_LIMITS.getByName(userId);
  await manualClockOn(stub);
  await runInDurableObject(stub, (instance: UserLimits) => {
    const Buckets = instance.sendBucket.constructor as new (c: { perSecond: number; burst: number }) => typeof instance.sendBucket;
    instance.budgets = { mutation: new Buckets({ perSecond: mutations / 60, burst: mutations }), read: new Buckets({ perSecond: reads / 60, burst: reads }) };
  });
}

function expectRateLimited(res: { status: number; body: any; headers: Headers }, limit: number): void {
  expect(errorOf(res)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
  const error = res.body.error;
  expect(error.retryAfter).toBeGreaterThan(0);
  expect(error).toMatchObject({ limit, remaining: 0 });
  expect(error.reset).toBeGreaterThan(0);
  expect(res.headers.get("Retry-After")).toBe(String(Math.max(1, Math.ceil(error.retryAfter))));
  expect(res.headers.get("X-RateLimit-Limit")).toBe(String(limit));
  expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
  expect(res.headers.get("X-RateLimit-Reset")).toBe(String(error.reset));
}

async function sentMessage(u: User, room: string, content = "original") {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as { id: string; seq: number };
}

describe("in-room mutations: the room's per-user budget", () => {
  it("a flood of 400 edits meets 429 rate_limited with Retry-After once the budget is spent, and the refused ones store nothing", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    const message = await sentMessage(alice, room);
    await limitRoom(room, { mutationsPerMinute: 120 });
    const stub = stubOf(room);
    const results = [];
    for (let i = 0; i < 399; i++) results.push(await stub.editMessage({ userId: alice.userId }, message.id, `edit ${i}`));
    expect(results.slice(0, 120).every((r) => r.ok)).toBe(true);
    expect(results.slice(120).every((r) => !r.ok && r.error.code === "rate_limited")).toBe(true);
    const res = await api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { token: alice.token, body: { content: "edit 399" } });
    expectRateLimited(res, 120);
    // Only the 120 allowed edits were stored and announced.
    const events = await runInDurableObject(stub, (instance: Room) => instance.core.log.after(0, 10_000).filter((e) => e.type === "message_edited").length);
    expect(events).toBe(120);
    const page = await alice.history(room);
    expect(page.body.messages.find((m: { id: string }) => m.id === message.id).content).toBe("edit 119");
  });

  it("deletions, moderation, roles and settings draw from the same budget", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const message = await sentMessage(alice, room);
    await limitRoom(room, { mutationsPerMinute: 2 });
    expect((await api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { token: alice.token, body: { content: "one" } })).status).toBe(200);
    expect((await alice.call("PUT", `/api/rooms/${room}/members/${bob.userId}/role`, { role: "admin" })).status).toBe(200);
    expectRateLimited(await alice.call("DELETE", `/api/rooms/${room}/messages/${message.id}`), 2);
    expectRateLimited(await alice.call("POST", `/api/rooms/${room}/members/${carol.userId}/kick`), 2);
    expectRateLimited(await alice.call("POST", `/api/rooms/${room}/members/${carol.userId}/ban`), 2);
    expectRateLimited(await alice.call("POST", `/api/rooms/${room}/members/${carol.userId}/unban`), 2);
    expectRateLimited(await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 30 }), 2);
    expectRateLimited(await alice.call("DELETE", `/api/rooms/${room}`), 2);
    // Per user: bob's budget is his own.
    expect((await bob.call("POST", `/api/rooms/${room}/members/${carol.userId}/kick`)).status).toBe(200);
    // Nothing refused took effect.
    expect((await alice.history(room)).body.messages.map((m: { content: string }) => m.content)).toEqual(["one"]);
  });

  it("an edit that changes nothing stores no event, broadcasts nothing and answers the current message", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const message = await sentMessage(alice, room, "same");
    const socket = await connect(bob.token, room);
    const head = await runInDurableObject(stubOf(room), (instance: Room) => instance.core.log.head);
    const res = await api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { token: alice.token, body: { content: "same" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: message.id, seq: message.seq, content: "same" });
    expect(res.body.editedTs ?? null).toBeNull();
    await socket.sync();
    expect(socket.frames.filter((f) => f.type === "event")).toEqual([]);
    const after = await runInDurableObject(stubOf(room), (instance: Room) => ({ head: instance.core.log.head, purges: instance.core.purgeQueue.size }));
    expect(after.head).toBe(head);
    expect(after.purges).toBe(0);
    socket.close();
  });
});

describe("read and typing frames beyond their natural rate", () => {
  it("answers rate_limited error frames once the socket's user has spent the signal budget, over HTTP too", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await sentMessage(alice, room);
    const socket = await connect(alice.token, room);
    await limitRoom(room, { signalsPerMinute: 5 });
    for (let i = 0; i < 4; i++) socket.send({ type: "typing" });
    for (let i = 0; i < 4; i++) socket.send({ type: "read", seq: 1 });
    await socket.sync();
    const errors = socket.frames.filter((f): f is Extract<ServerFrame, { type: "error" }> => f.type === "error");
    expect(errors.length).toBe(3);
    for (const frame of errors) {
      expect(frame.error).toMatchObject({ code: "rate_limited", limit: 5, remaining: 0 });
      expect(frame.error.retryAfter).toBeGreaterThan(0);
    }
    expectRateLimited(await alice.call("POST", `/api/rooms/${room}/typing`), 5);
    expectRateLimited(await alice.call("POST", `/api/rooms/${room}/read`, { seq: 1 }), 5);
    socket.close();
  });
});

describe("cross-room mutations: the user's UserLimits budget", () => {
  it("creation, direct rooms, joins, leaves, tickets, mutes, push subscriptions and settings each spend it, then get 429", async () => {
    // Users of their own: their lowered UserLimits must not reach other tests.
    const { room, users } = await roomOf(uniqueUser("alice"), uniqueUser("bob"));
    const [alice, bob] = users as [User, User];
    const calls: Array<() => Promise<{ status: number; body: any; headers: Headers }>> = [
      () => alice.createRoom(uniqueRoom("budgets")),
      () => alice.call("POST", `/api/direct/${bob.userId}`),
      () => alice.leave(room),
      () => alice.join(room),
      () => alice.call("POST", `/api/rooms/${room}/connect-ticket`),
      () => alice.call("POST", "/api/inbox/connect-ticket"),
      () => alice.call("PUT", `/api/rooms/${room}/mute`, {}),
      () => alice.call("DELETE", `/api/rooms/${room}/mute`),
      () => alice.call("POST", "/api/me/push-subscriptions", { endpoint: "https://fcm.googleapis.com/fcm/send/x", keys: { p256dh: "p", auth: "a" } }),
      () => alice.call("DELETE", "/api/me/push-subscriptions", { endpoint: "https://fcm.googleapis.com/fcm/send/x" }),
      () => alice.call("PATCH", "/api/me/settings", { presenceVisibility: "everyone" }),
    ];
    for (const call of calls) {
      await limitUser(alice.userId, 1);
      // The one token is spent by the call itself (whatever it answers), so the next identical call is refused.
      expect((await call()).status).not.toBe(429);
      expectRateLimited(await call(), 1);
    }
    // Another user's budget is untouched.
    expect((await bob.call("POST", `/api/rooms/${room}/connect-ticket`)).status).toBe(200);
  });
});

describe("the outbox cap", () => {
  it("refuses the mutations that feed the outbox with 429 rate_limited and Retry-After while it is over its cap", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice] = users as [User, User];
    const message = await sentMessage(alice, room);
    // D1 unreachable: nothing drains, as in an outage.
    await runInDurableObject(stubOf(room), (instance: Room) => {
      instance.indexDb = {
        prepare: (query: string) => env.DB.prepare(query),
        batch: async () => Promise.reject(new Error("D1 is unavailable (test)")),
      } as unknown as D1Database;
      // No inbox or push rows from here on (those drain without D1): only D1 rows, which stay.
      (instance.core.limits as unknown as Record<string, number>).largeRoomMembers = 0;
    });
    await runDurableObjectAlarm(stubOf(room));
    const pendingNow = () => runInDurableObject(stubOf(room), (instance: Room) => instance.core.outbox.pending);
    const cap = (await pendingNow()) + 3;
    await limitRoom(room, { outboxMaxPending: cap });
    const edit = (i: number) => api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { token: alice.token, body: { content: `e${i}` } });
    // Each edit adds its audit row, and nothing drains.
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await edit(i));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const refused = answers[3];
    expect(errorOf(refused!)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
    expect(refused!.body.error.retryAfter).toBeGreaterThan(0);
    expect(Number(refused!.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await pendingNow()).toBe(cap);
    // Still over the cap: the next edit, and a join, are refused too (joins feed the outbox as well).
    expect((await edit(100)).status).toBe(429);
    const carol = await user(uniqueUser("carol"));
    expect((await carol.join(room)).status).toBe(429);
    // D1 is back and the outbox drains: mutations are accepted again.
    await runInDurableObject(stubOf(room), (instance: Room) => {
      instance.indexDb = env.DB;
    });
    for (let i = 0; i < 5 && (await pendingNow()) >= cap; i++) await runDurableObjectAlarm(stubOf(room));
    expect(await pendingNow()).toBeLessThan(cap);
    expect((await edit(101)).status).toBe(200);
  });
});
