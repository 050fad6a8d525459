/**
 * HTTP reads cost bounded work (issue 15, item 3): per-user read budgets
 * (the room's for history, members, presence and receipts; the user's
 * UserLimits for the room list and the sync log), history pages capped by
 * bytes with a cursor that continues without a gap, presence computed in one
 * pass over the sockets, and connect tickets expired by an index. Also the
 * audit log's retention (item 2), trimmed by the Worker's scheduled handler.
 */
import { createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import type { RoomBudgets } from "../../src/room/budgets";
import type { Room } from "../../src/room/room";
import type { UserLimits } from "../../src/user/limits";
import type { Inbox } from "../../src/user/inbox";
import { api, connect, errorOf, uniqueRoom, uniqueUser, user } from "../helpers";

type User = Awaited<ReturnType<typeof user>>;
const stubOf = (room: string) => env.ROOMS.getByName(room);

async function roomWith(...names: string[]): Promise<{ room: string; users: User[] }> {
  const users = await Promise.all(names.map((n) => user(uniqueUser(n))));
  const room = uniqueRoom("reads");
  expect((await users[0]!.createRoom(room)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(room)).status).toBe(200);
  return { room, users };
}

function expectRateLimited(res: { status: number; body: any; headers: Headers }, limit: number): void {
  expect(errorOf(res)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
  expect(res.body.error).toMatchObject({ limit, remaining: 0 });
  expect(res.body.error.retryAfter).toBeGreaterThan(0);
  expect(res.headers.get("Retry-After")).toBe(String(Math.max(1, Math.ceil(res.body.error.retryAfter))));
  expect(res.headers.get("X-RateLimit-Limit")).toBe(String(limit));
  expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
}

/** Lowers fields of the room's limits on its instance; the budgets are rebuilt from them. */
async function lowerRoom(room: string, lower: Record<string, number>): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const core = instance.core as unknown as { limits: Record<string, number>; clock: unknown; budgets: RoomBudgets };
    Object.assign(core.limits, lower);
    core.budgets = new (core.budgets.constructor as new (l: unknown, c: unknown) => RoomBudgets)(core.limits, core.clock);
  });
}

describe("history pages are capped by bytes", () => {
  it("a page of large messages stops under the cap with a cursor, and the cursors continue without gap or repeat", async () => {
    const { room, users } = await roomWith("alice");
    const alice = users[0]!;
    const stub = stubOf(room);
    const big = "x".repeat(10_000);
    for (let i = 0; i < 20; i++) expect((await stub.sendMessage(alice.userId, { content: `${i} ${big}` })).ok).toBe(true);
    const cap = 64 * 1024;
    await lowerRoom(room, { historyPageMaxBytes: cap });

    const seen: number[] = [];
    let query = "limit=200";
    for (let pages = 0; pages < 20; pages++) {
      const res = await alice.history(room, query);
      expect(res.status).toBe(200);
      const bytes = new TextEncoder().encode(JSON.stringify(res.body.messages)).byteLength;
      expect(bytes).toBeLessThanOrEqual(cap);
      expect(res.body.messages.length).toBeGreaterThan(0);
      seen.unshift(...res.body.messages.map((m: { seq: number }) => m.seq));
      if (!res.body.nextCursor) break;
      // Every page but the last ended early, by bytes, far below the count limit.
      expect(res.body.messages.length).toBeLessThan(20);
      query = `limit=200&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    const sends = await alice.history(room, "limit=1");
    const newest = sends.body.messages[0].seq as number;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => newest - 19 + i));

    // Forward pages too (a gap fill), events included.
    const forward: number[] = [];
    let fq = `afterSeq=${newest - 20}&limit=200`;
    for (let pages = 0; pages < 20; pages++) {
      const res = await alice.history(room, fq);
      expect(new TextEncoder().encode(JSON.stringify(res.body.events)).byteLength).toBeLessThanOrEqual(cap);
      forward.push(...res.body.events.map((e: { seq: number }) => e.seq));
      if (!res.body.nextCursor) break;
      fq = `limit=200&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    expect(forward).toEqual(Array.from({ length: 20 }, (_, i) => newest - 19 + i));
  });
});

describe("read budgets", () => {
  it("history, members, presence, receipts and settings draw from the room's per-user read budget", async () => {
    const { room, users } = await roomWith("alice", "bob");
    const [alice, bob] = users as [User, User];
    await lowerRoom(room, { readsPerMinute: 5 });
    const reads = ["messages", "members", "presence", "receipts", "settings"];
    for (const path of reads) expect((await alice.call("GET", `/api/rooms/${room}/${path}`)).status).toBe(200);
    for (const path of [...reads, "active-users"]) expectRateLimited(await alice.call("GET", `/api/rooms/${room}/${path}`), 5);
    // Bob's budget is his own.
    expect((await bob.call("GET", `/api/rooms/${room}/messages`)).status).toBe(200);
  });

  it("the room list, the sync log and the privacy settings draw from the user's cross-room read budget", async () => {
    const { users } = await roomWith("alice");
    const alice = users[0]!;
    for (const path of ["/api/rooms", "/api/sync", "/api/me/settings"]) {
      await runInDurableObject(env.USER_LIMITS.getByName(alice.userId), (instance: UserLimits) => {
        const Buckets = instance.sendBucket.constructor as new (c: { perSecond: number; burst: number }) => typeof instance.sendBucket;
        // Almost no refill: the second call comes well inside it.
        instance.budgets = { ...instance.budgets, read: new Buckets({ perSecond: 0.001, burst: 1 }) };
      });
      expect((await alice.call("GET", path)).status).toBe(200);
      expectRateLimited(await alice.call("GET", path), 1);
    }
  });
});

describe("presence", () => {
  it("is computed in one pass over the sockets, not one pass per member", async () => {
    const { room, users } = await roomWith("alice", "bob", "carol");
    const sockets = await Promise.all(users.map((u) => connect(u.token, room)));
    const calls = await runInDurableObject(stubOf(room), (instance: Room) => {
      const counted = { devicesOf: 0 };
      const original = instance.sockets.devicesOf.bind(instance.sockets);
      instance.sockets.devicesOf = (userId: string) => {
        counted.devicesOf++;
        return original(userId);
      };
      const result = instance.presenceList(users[0]!.userId);
      instance.sockets.devicesOf = original;
      expect(result.ok && result.value.presence.map((p) => [p.online, p.devices])).toEqual([
        [true, 1],
        [true, 1],
        [true, 1],
      ]);
      return counted.devicesOf;
    });
    expect(calls).toBe(0);
    for (const s of sockets) s.close();
  });
});

describe("connect tickets", () => {
  it("are expired by an index on expires_ts, in rooms and in inboxes", async () => {
    const { room, users } = await roomWith("alice");
    const alice = users[0]!;
    expect((await alice.call("POST", `/api/rooms/${room}/connect-ticket`)).status).toBe(200);
    expect((await alice.call("POST", "/api/inbox/connect-ticket")).status).toBe(200);
    const plan = (sql: SqlStorage) =>
      sql
        .exec<{ detail: string }>("EXPLAIN QUERY PLAN DELETE FROM tickets WHERE expires_ts <= ?", Date.now())
        .toArray()
        .map((r) => r.detail)
        .join("; ");
    const inRoom = await runInDurableObject(stubOf(room), (_: Room, state) => plan(state.storage.sql));
    const inInbox = await runInDurableObject(env.INBOXES.getByName(alice.userId), (_: Inbox, state) => plan(state.storage.sql));
    expect(inRoom).toMatch(/USING (COVERING )?INDEX tickets_expiry/);
    expect(inInbox).toMatch(/USING (COVERING )?INDEX tickets_expiry/);
  });
});

describe("the audit log's retention", () => {
  it("the scheduled handler drops entries older than AUDIT_RETENTION_DAYS and keeps newer ones", async () => {
    const day = 24 * 60 * 60 * 1000;
    const tag = uniqueUser("audit");
    const insert = (id: string, ts: number) =>
      env.DB.prepare("INSERT INTO audit_log (id, ts, actor, action, room_id, target, detail) VALUES (?, ?, ?, 'test', NULL, NULL, NULL)").bind(id, ts, tag);
    await env.DB.batch([insert(`${tag}-old`, Date.now() - 400 * day), insert(`${tag}-new`, Date.now() - 10 * day)]);
    await worker.scheduled(createScheduledController(), env);
    const { results } = await env.DB.prepare("SELECT id FROM audit_log WHERE actor = ? ORDER BY id").bind(tag).all<{ id: string }>();
    expect(results.map((r) => r.id)).toEqual([`${tag}-new`]);
  });
});

describe("budgets change no other answer", () => {
  it("a read of a room answers as before for a non-member (the budget is spent, the refusal is membership's)", async () => {
    const { room } = await roomWith("alice");
    const stranger = await user(uniqueUser("stranger"));
    expect((await api("GET", `/api/rooms/${room}/messages`, { token: stranger.token })).status).toBe(403);
  });
});
