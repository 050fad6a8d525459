/**
 * GET /api/sync: how a device that was offline learns what happened to its
 * room list (joins, leaves, deletions, restores, activity), in order, once.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, uniqueRoom } from "../helpers";
import {
  type SyncEventRow,
  type TestUser,
  afterAlarms,
  eventually,
  expectError,
  newUser,
  runAlarm,
  syncAll,
  syncPage,
} from "../room/deletion-helpers";

const deleteRoom = (u: TestUser, room: string) => u.call<any>("DELETE", `/api/rooms/${room}`);
const restoreRoom = (u: TestUser, room: string) => u.call<any>("POST", `/api/rooms/${room}/restore`);

const urlSafe = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
const craftCursor = (i: number, t: number) => urlSafe(JSON.stringify({ i, t }));

const ofRoom = (events: SyncEventRow[], room: string) => events.filter((e) => e.roomId === room).map((e) => e.type);

/** Reads from `cursor` until `want` holds for what arrived, following cursors; returns events and cursor. */
async function syncUntil(u: TestUser, cursor: string | undefined, want: (events: SyncEventRow[]) => boolean, rooms: string[] = []) {
  const seen: SyncEventRow[] = [];
  let next = cursor;
  await afterAlarms(rooms, async () => {
    const page = await syncAll(u.token, next);
    seen.push(...page.events);
    next = page.cursor;
    return want(seen) ? true : undefined;
  }, 5000, `${u.userId}'s sync`);
  return { events: seen, cursor: next! };
}

describe("GET /api/sync", () => {
  it("starts at the beginning without a cursor: a new user has no events and a cursor to continue from", async () => {
    const nobody = await newUser("nobody");
    const res = await syncPage(nobody.token);
    expect(res.status).toBe(200);
    expect(res.body.events).toEqual([]);
    expect(res.body.hasMore).toBe(false);
    expect(typeof res.body.cursor).toBe("string");
  });

  it("records joins as room_joined and leaves as room_left", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await bob.join(room);
    await runAlarm(room);
    await bob.leave(room);
    const { events } = await syncUntil(bob, undefined, (e) => ofRoom(e, room).includes("room_left"), [room]);
    expect(ofRoom(events, room)).toEqual(["room_joined", "room_left"]);
    const a = await syncUntil(alice, undefined, (e) => ofRoom(e, room).includes("room_joined"), [room]);
    expect(ofRoom(a.events, room)).toEqual(["room_joined"]);
    for (const e of events) expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("tells a member with no open socket that the room was deleted, within seconds", async () => {
    const alice = await newUser("alice");
    const carol = await newUser("carol");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await carol.join(room);
    await runAlarm(room);
    const start = await syncAll(carol.token);
    expect(ofRoom(start.events, room)).toEqual(["room_joined"]);
    expect((await deleteRoom(alice, room)).status).toBe(200);
    // No alarm forced here: the room's own flush must bring it within a few seconds.
    const found = await eventually(async () => {
      const page = await syncAll(carol.token, start.cursor);
      return page.events.some((e) => e.type === "room_deleted" && e.roomId === room) ? page : undefined;
    }, 5000, "room_deleted in carol's sync");
    expect(found.events).toEqual([{ type: "room_deleted", roomId: room, ts: expect.any(String) }]);
  });

  it("returns events in order since the cursor and continues from the new one without repeats", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const rooms = [uniqueRoom("sync"), uniqueRoom("sync"), uniqueRoom("sync")];
    for (const room of rooms) {
      await alice.createRoom(room);
      await bob.join(room);
      await runAlarm(room);
    }
    const first = await syncUntil(bob, undefined, (e) => e.filter((x) => x.type === "room_joined").length === 3, rooms);
    expect(first.events.map((e) => [e.type, e.roomId])).toEqual(rooms.map((r) => ["room_joined", r]));

    // Nothing new: the same cursor gives nothing, and nothing repeats.
    const again = await syncPage(bob.token, first.cursor);
    expect(again.body.events).toEqual([]);

    await deleteRoom(alice, rooms[1]!);
    await runAlarm(rooms[1]!);
    await bob.leave(rooms[2]!);
    await runAlarm(rooms[2]!);
    const second = await syncUntil(bob, first.cursor, (e) => e.length >= 2, rooms);
    expect(second.events.map((e) => [e.type, e.roomId])).toEqual([
      ["room_deleted", rooms[1]],
      ["room_left", rooms[2]],
    ]);
    const third = await syncPage(bob.token, second.cursor);
    expect(third.body.events).toEqual([]);
    // Reading from the start again gives the whole log once, in order.
    const whole = await syncAll(bob.token);
    expect(whole.events.map((e) => [e.type, e.roomId])).toEqual([...first.events, ...second.events].map((e) => [e.type, e.roomId]));
  });

  it("lets two devices with independent cursors both learn of a deletion", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await bob.join(room);
    await runAlarm(room);
    const phone = await syncAll(bob.token);
    const laptop = await syncAll(bob.token);
    // The phone catches up once more before the deletion; the laptop does not.
    const phone2 = await syncAll(bob.token, phone.cursor);
    await deleteRoom(alice, room);
    const onPhone = await syncUntil(bob, phone2.cursor, (e) => ofRoom(e, room).includes("room_deleted"), [room]);
    const onLaptop = await syncUntil(bob, laptop.cursor, (e) => ofRoom(e, room).includes("room_deleted"), [room]);
    expect(ofRoom(onPhone.events, room)).toEqual(["room_deleted"]);
    expect(ofRoom(onLaptop.events, room)).toEqual(["room_deleted"]);
  });

  it("records a restore as room_restored after room_deleted", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await bob.join(room);
    await runAlarm(room);
    const start = await syncAll(bob.token);
    await deleteRoom(alice, room);
    await runAlarm(room);
    await restoreRoom(alice, room);
    const { events } = await syncUntil(bob, start.cursor, (e) => ofRoom(e, room).includes("room_restored"), [room]);
    expect(ofRoom(events, room)).toEqual(["room_deleted", "room_restored"]);
  });

  it("records messages as room_activity, one row per room, moved to the end by newer activity", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const a = uniqueRoom("sync-a");
    const b = uniqueRoom("sync-b");
    for (const room of [a, b]) {
      await alice.createRoom(room);
      await bob.join(room);
      await runAlarm(room);
    }
    const start = await syncAll(bob.token);
    for (let i = 0; i < 3; i++) await alice.send(a, `a${i}`);
    await runAlarm(a);
    await alice.send(b, "b0");
    await runAlarm(b);
    await alice.send(a, "a again");
    await runAlarm(a);
    await eventually(async () => {
      const all = await syncAll(bob.token);
      const activity = all.events.filter((e) => e.type === "room_activity");
      return activity.length === 2 && activity[1]!.roomId === a ? true : undefined;
    }, 5000, "activity of b then a");
    const since = await syncAll(bob.token, start.cursor);
    expect(since.events.map((e) => [e.type, e.roomId])).toEqual([
      ["room_activity", b],
      ["room_activity", a],
    ]);
  });

  it("answers a cursor older than the retention period with 410 resync_required, the room list and a fresh cursor", async () => {
    const alice = await newUser("alice");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await runAlarm(room);
    const old = craftCursor(0, Date.now() - 200 * 86_400_000);
    const res = await syncPage(alice.token, old);
    expectError(res, 410, "resync_required");
    const body = res.body as any;
    expect(body.rooms.map((r: { roomId: string }) => r.roomId)).toContain(room);
    expect(typeof body.cursor).toBe("string");
    // The fresh cursor continues from the end: nothing old comes back.
    const next = await syncPage(alice.token, body.cursor);
    expect(next.status).toBe(200);
    expect(next.body.events).toEqual([]);
  });

  it("accepts a cursor issued inside the retention period", async () => {
    const alice = await newUser("alice");
    const res = await syncPage(alice.token, craftCursor(0, Date.now() - 179 * 86_400_000));
    expect(res.status).toBe(200);
  });

  it("refuses a garbage cursor with 400 invalid_request", async () => {
    const alice = await newUser("alice");
    for (const bad of ["garbage!", "bm90IGpzb24", craftCursor(-1, Date.now()), urlSafe(JSON.stringify({ i: "1", t: 1 })), urlSafe("[]")]) {
      expectError(await syncPage(alice.token, bad), 400, "invalid_request");
    }
  });

  it("requires a token", async () => {
    expectError(await api("GET", "/api/sync"), 401, "unauthorized");
  });

  it("pages a long log 500 at a time with hasMore, each event once and in order", async () => {
    const bob = await newUser("pager");
    const total = 1203;
    const now = Date.now();
    const statements = Array.from({ length: total }, (_, i) =>
      env.DB.prepare("INSERT INTO sync_log (user_id, type, room_id, ts, dedupe) VALUES (?, 'room_activity', ?, ?, ?)").bind(bob.userId, `paged-${i}`, now, `${bob.userId}|paged-${i}`),
    );
    for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200));
    const pages: number[] = [];
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await syncPage(bob.token, cursor);
      expect(res.status).toBe(200);
      pages.push(res.body.events.length);
      seen.push(...res.body.events.map((e) => e.roomId));
      cursor = res.body.cursor;
      if (!res.body.hasMore) break;
    }
    expect(pages).toEqual([500, 500, 203]);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => `paged-${i}`));
  });

  it("keeps each user's log to themselves", async () => {
    const alice = await newUser("alice");
    const eve = await newUser("eve");
    const room = uniqueRoom("sync");
    await alice.createRoom(room);
    await runAlarm(room);
    await deleteRoom(alice, room);
    await runAlarm(room);
    await syncUntil(alice, undefined, (e) => ofRoom(e, room).includes("room_deleted"), [room]);
    expect(ofRoom((await syncAll(eve.token)).events, room)).toEqual([]);
  });
});
