/**
 * The purge with more users under a legal hold than Durable Object SQLite
 * binds in one statement (100): it still destroys what no hold keeps and
 * keeps what one does, for queued content, removed media and a whole
 * deleted room whose held senders alone outnumber the limit.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { uniqueRoom } from "../helpers";
import { deleteMessage, newUser, roomCount, roomSql, roomStub, runAlarm, sent, uid } from "./deletion-helpers";
import { manualClockOn } from "./helpers/clock";

/** 101 users under a hold, placed straight in D1 (the API would take 101 requests and prove nothing more). */
const HELD = 101;
const heldIds: string[] = [];
const holdIds: string[] = [];

async function holdUser(userId: string): Promise<void> {
  const id = `hold_${crypto.randomUUID()}`;
  holdIds.push(id);
  await env.DB.prepare("INSERT INTO legal_holds (id, kind, target, reason, placed_by, placed_ts) VALUES (?, 'user', ?, 'many', 'root', ?)")
    .bind(id, userId, Date.now())
    .run();
}

beforeAll(async () => {
  for (let i = 0; i < HELD; i++) heldIds.push(uid(`held${i}`));
  for (const id of heldIds) await holdUser(id);
});

afterAll(async () => {
  // Holds are global: the other test files sharing this D1 must not see them.
  for (const id of holdIds) await env.DB.prepare("UPDATE legal_holds SET released_ts = ?, released_by = 'root' WHERE id = ?").bind(Date.now(), id).run();
});

const queuedSenders = async (room: string) => (await roomSql<{ sender: string }>(room, "SELECT sender FROM purge_queue ORDER BY id")).map((r) => r.sender);

describe(`the purge with ${HELD} users under a legal hold`, () => {
  it("destroys deleted content of users no hold covers and keeps that of a held user", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await holdUser(bob.userId);
    const room = uniqueRoom("many-holds");
    expect((await alice.createRoom(room)).status).toBe(201);
    expect((await bob.join(room)).status).toBe(200);
    const mine = await sent(alice, room, "not held");
    const his = await sent(bob, room, "held");
    expect((await deleteMessage(alice, room, mine.id)).status).toBe(200);
    expect((await deleteMessage(bob, room, his.id)).status).toBe(200);
    // Each run returns once the alarm handler is done, purge included.
    for (let i = 0; i < 3; i++) await runAlarm(room);
    expect(await queuedSenders(room)).toEqual([bob.userId]);
  });

  it("purges a deleted room past its undo window except the messages of held senders, more of them than SQLite binds at once", async () => {
    const alice = await newUser("alice");
    const room = uniqueRoom("many-holds-room");
    expect((await alice.createRoom(room)).status).toBe(201);
    await sent(alice, room, "not held");
    // Every held user has a message here: the held senders with content in this room alone are over 100.
    await runInDurableObject(roomStub(room), (instance: Room) => {
      for (const id of heldIds) instance.core.log.seedMessagesForBench(id, 1, `kept for ${id}`);
    });
    const clock = await manualClockOn(roomStub(room));
    const deleted = await alice.call<any>("DELETE", `/api/rooms/${room}`);
    expect(deleted.status).toBe(200);
    clock.set(Date.parse(deleted.body.restorableUntil) + 1);
    for (let i = 0; i < 3; i++) await runAlarm(room);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type = 'message' AND actor = ?", alice.userId)).toBe(0);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type = 'message'")).toBe(HELD);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type <> 'message'")).toBe(0);
  });
});
