/**
 * The room's outbox to the D1 index: changes wait in the room's SQLite until a
 * flush writes them, and a failed flush loses nothing.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { uniqueRoom, uniqueUser, user } from "../helpers";

/** A D1 stand-in whose batches always fail, as D1 does when it is unreachable. */
function failingDb(): { db: D1Database; batches: () => number } {
  let batches = 0;
  const db = {
    prepare: (query: string) => env.DB.prepare(query),
    batch: async () => {
      batches++;
      throw new Error("D1 is unavailable (test)");
    },
    exec: async () => {
      throw new Error("D1 is unavailable (test)");
    },
  } as unknown as D1Database;
  return { db, batches: () => batches };
}

const stubOf = (roomId: string) => env.ROOMS.getByName(roomId);
const pending = (roomId: string) => runInDurableObject(stubOf(roomId), (room: Room) => room.core.outbox.pending);
const setIndexDb = (roomId: string, db: D1Database) =>
  runInDurableObject(stubOf(roomId), (room: Room) => {
    room.indexDb = db;
  });

async function membershipRow(userId: string, roomId: string) {
  return env.DB.prepare("SELECT user_id, room_id, role, seq FROM memberships WHERE user_id = ? AND room_id = ?")
    .bind(userId, roomId)
    .first<{ user_id: string; room_id: string; role: string; seq: number }>();
}

async function roomRow(roomId: string) {
  return env.DB.prepare("SELECT room_id, kind, last_seq, last_activity_ts FROM rooms WHERE room_id = ?")
    .bind(roomId)
    .first<{ room_id: string; kind: string; last_seq: number; last_activity_ts: number }>();
}

/** Creates a room and flushes its creation to D1 so later assertions start clean. */
async function flushedRoom() {
  const alice = await user(uniqueUser("alice"));
  const room = uniqueRoom("outbox");
  expect((await alice.createRoom(room)).status).toBe(201);
  await runDurableObjectAlarm(stubOf(room));
  // The alarm may already have fired on its own; either way the outbox is now empty.
  expect(await pending(room)).toBe(0);
  expect(await roomRow(room)).toMatchObject({ room_id: room, kind: "group", last_seq: 1 });
  expect(await membershipRow(alice.userId, room)).toMatchObject({ role: "owner", seq: 1 });
  return { alice, room };
}

describe("room outbox", () => {
  it("records a change in the outbox and writes it to D1 when the alarm runs", async () => {
    const alice = await user(uniqueUser("alice"));
    const room = uniqueRoom("outbox");
    await alice.createRoom(room);
    // Room row and owner membership are both waiting, with the owner's inbox notices
    // (joined, activity), unless the 250 ms alarm already ran.
    const waiting = await pending(room);
    expect([0, 4]).toContain(waiting);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect(await roomRow(room)).toMatchObject({ kind: "group", last_seq: 1 });
    expect(await membershipRow(alice.userId, room)).toMatchObject({ role: "owner", seq: 1 });
  });

  it("keeps one row per key: a burst of messages does not grow the outbox", async () => {
    const { alice, room } = await flushedRoom();
    const { db } = failingDb();
    await setIndexDb(room, db); // keep the alarm from draining the outbox while we look
    await alice.send(room, "m0");
    const afterOne = await pending(room);
    expect(afterOne).toBeGreaterThan(0);
    for (let i = 1; i < 10; i++) await alice.send(room, `m${i}`);
    expect(await pending(room)).toBe(afterOne);
    await setIndexDb(room, env.DB);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect((await roomRow(room))?.last_seq).toBe(11);
  });

  it("brings a burst's single row up to the last message when it flushes, even after the object restarted", async () => {
    const { alice, room } = await flushedRoom();
    await setIndexDb(room, failingDb().db);
    let last: { seq: number; ts: string } = { seq: 0, ts: "" };
    for (let i = 0; i < 6; i++) last = (await alice.send(room, `m${i}`)).body;
    // The in-memory record of which rows are already written is gone; the rows and the log are not.
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(stubOf(room));
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect(await roomRow(room)).toMatchObject({ last_seq: last.seq, last_activity_ts: Date.parse(last.ts) });
    // And the next message after the restart is flushed too.
    const next = (await alice.send(room, "after the restart")).body;
    await runDurableObjectAlarm(stubOf(room));
    expect(await roomRow(room)).toMatchObject({ last_seq: next.seq, last_activity_ts: Date.parse(next.ts) });
  });

  it("keeps a message's index update pending while D1 fails, and writes it once D1 is back", async () => {
    const { alice, room } = await flushedRoom();
    const failing = failingDb();
    await setIndexDb(room, failing.db);
    const sent = await alice.send(room, "survives a D1 outage");
    expect(sent.status).toBe(201);

    expect(await runDurableObjectAlarm(stubOf(room))).toBe(true);
    expect(failing.batches()).toBeGreaterThan(0);
    expect(await pending(room)).toBeGreaterThan(0);
    expect((await roomRow(room))?.last_seq).toBe(1);

    // A failed flush schedules a retry.
    const retry = await runInDurableObject(stubOf(room), (_room: Room, state) => state.storage.getAlarm());
    expect(retry).not.toBeNull();

    await setIndexDb(room, env.DB);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect((await roomRow(room))?.last_seq).toBe(sent.body.seq);
  });

  it("keeps a join pending while D1 fails, and writes the membership once D1 is back", async () => {
    const { room } = await flushedRoom();
    const bob = await user(uniqueUser("bob"));
    const failing = failingDb();
    await setIndexDb(room, failing.db);
    expect((await bob.join(room)).body.joined).toBe(true);

    expect(await runDurableObjectAlarm(stubOf(room))).toBe(true);
    expect(await pending(room)).toBeGreaterThan(0);
    expect(await membershipRow(bob.userId, room)).toBeNull();
    // Failing again is no different: still pending, still absent.
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBeGreaterThan(0);
    expect(await membershipRow(bob.userId, room)).toBeNull();

    await setIndexDb(room, env.DB);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect(await membershipRow(bob.userId, room)).toMatchObject({ role: "member", seq: 2 });
    expect((await roomRow(room))?.last_seq).toBe(2);
  });

  it("keeps a leave pending while D1 fails, and removes the membership once D1 is back", async () => {
    const { room } = await flushedRoom();
    const bob = await user(uniqueUser("bob"));
    await bob.join(room);
    await runDurableObjectAlarm(stubOf(room));
    expect(await membershipRow(bob.userId, room)).not.toBeNull();

    await setIndexDb(room, failingDb().db);
    await bob.leave(room);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBeGreaterThan(0);
    expect(await membershipRow(bob.userId, room)).not.toBeNull();

    await setIndexDb(room, env.DB);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect(await membershipRow(bob.userId, room)).toBeNull();
  });

  it("survives the room object being evicted while D1 is failing", async () => {
    const { room } = await flushedRoom();
    const bob = await user(uniqueUser("bob"));
    await setIndexDb(room, failingDb().db);
    await bob.join(room);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBeGreaterThan(0);
    // A fresh instance reads the outbox from SQLite and uses the real D1 again.
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(stubOf(room));
    expect(await pending(room)).toBeGreaterThan(0);
    await runDurableObjectAlarm(stubOf(room));
    expect(await pending(room)).toBe(0);
    expect(await membershipRow(bob.userId, room)).toMatchObject({ role: "member" });
  });
});
