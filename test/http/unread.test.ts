/**
 * GET /api/rooms: unreadCount, lastMessage and lastActivityTs per room. They
 * come from the rooms themselves, so they are right at once after a send, a
 * read or a deletion (only the set of rooms waits on the D1 index).
 */
import { describe, expect, it } from "vitest";
import { ISO_MS, eventually, uniqueRoom, uniqueUser, user } from "../helpers";
import { storeNow } from "../room/store-now";

type User = Awaited<ReturnType<typeof user>>;
interface Summary {
  roomId: string;
  lastActivityTs: string;
  lastSeq: number;
  unreadCount?: number;
  lastMessage?: { id: string; seq: number; sender: string; preview?: string; deleted?: true; ts: string } | null;
}

async function rooms(u: User): Promise<Summary[]> {
  const res = await u.call<{ rooms: Summary[] }>("GET", "/api/rooms");
  expect(res.status).toBe(200);
  return res.body.rooms;
}

async function summaryOf(u: User, roomId: string): Promise<Summary> {
  return eventually(async () => (await rooms(u)).find((r) => r.roomId === roomId), 5000, `${roomId} in the list`);
}

async function twoMembers() {
  const alice = await user(uniqueUser("alice"));
  const bob = await user(uniqueUser("bob"));
  const room = uniqueRoom("unread");
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  return { alice, bob, room };
}

describe("unread counts and last message in GET /api/rooms", () => {
  it("a new room has no unread messages and no last message", async () => {
    const { bob, room } = await twoMembers();
    const s = await summaryOf(bob, room);
    expect(s.unreadCount).toBe(0);
    expect(s.lastMessage).toBeNull();
    expect(s.lastActivityTs).toMatch(ISO_MS);
  });

  it("counts others' messages after the read position, never your own", async () => {
    const { alice, bob, room } = await twoMembers();
    await alice.send(room, "one");
    await alice.send(room, "two");
    await bob.send(room, "mine");
    const last = (await alice.send(room, "three")).body;
    const s = await summaryOf(bob, room);
    expect(s.unreadCount).toBe(3);
    expect(s.lastMessage).toEqual({ id: last.id, seq: last.seq, sender: alice.userId, preview: "three", ts: last.ts });
    expect(s.lastActivityTs).toBe(last.ts);
    expect((await summaryOf(alice, room)).unreadCount).toBe(1); // bob's
  });

  it("drops to the messages after a read at once (before the receipt batch is written)", async () => {
    const { alice, bob, room } = await twoMembers();
    const first = (await alice.send(room, "one")).body;
    await alice.send(room, "two");
    await alice.send(room, "three");
    expect((await summaryOf(bob, room)).unreadCount).toBe(3);
    expect((await bob.call("POST", `/api/rooms/${room}/read`, { seq: first.seq })).status).toBe(200);
    expect((await summaryOf(bob, room)).unreadCount).toBe(2);
    const head = (await alice.send(room, "four")).body;
    expect((await summaryOf(bob, room)).unreadCount).toBe(3);
    await bob.call("POST", `/api/rooms/${room}/read`, { seq: head.seq });
    expect((await summaryOf(bob, room)).unreadCount).toBe(0);
    // Reads only move forward.
    await bob.call("POST", `/api/rooms/${room}/read`, { seq: 1 });
    expect((await summaryOf(bob, room)).unreadCount).toBe(0);
  });

  it("stops counting a deleted message, and shows a deleted last message as a tombstone", async () => {
    const { alice, bob, room } = await twoMembers();
    const a = (await alice.send(room, "keep")).body;
    const b = (await alice.send(room, "regret")).body;
    expect((await summaryOf(bob, room)).unreadCount).toBe(2);
    expect((await alice.call("DELETE", `/api/rooms/${room}/messages/${b.id}`)).status).toBe(200);
    const s = await summaryOf(bob, room);
    expect(s.unreadCount).toBe(1);
    expect(s.lastMessage).toEqual({ id: b.id, seq: b.seq, sender: alice.userId, deleted: true, ts: b.ts });
    expect(JSON.stringify(s)).not.toContain("regret");
    await alice.call("DELETE", `/api/rooms/${room}/messages/${a.id}`);
    expect((await summaryOf(bob, room)).unreadCount).toBe(0);
  });

  it("previews only the first 100 characters", async () => {
    const { alice, bob, room } = await twoMembers();
    await alice.send(room, "x".repeat(500));
    const s = await summaryOf(bob, room);
    expect(s.lastMessage?.preview).toBe(`${"x".repeat(100)}…`);
  });

  it("sorts by the rooms' last activity and leaves other users' rooms out", async () => {
    const alice = await user(uniqueUser("alice"));
    const r1 = uniqueRoom("first");
    const r2 = uniqueRoom("second");
    await alice.createRoom(r1);
    await alice.createRoom(r2);
    await eventually(async () => ((await rooms(alice)).length === 2 ? true : undefined), 5000, "both rooms");
    await alice.send(r1, "bump");
    // At once: the room's own clock orders the list, not the lagging index.
    expect((await rooms(alice)).map((r) => r.roomId)).toEqual([r1, r2]);
    await alice.send(r2, "bump");
    expect((await rooms(alice)).map((r) => r.roomId)).toEqual([r2, r1]);
  });

  it("caps the count at 999", async () => {
    const { alice, bob, room } = await twoMembers();
    // A thousand sends over HTTP is slow in the pool; insert straight into the room instead.
    const { env, runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(env.ROOMS.getByName(room), (r: import("../../src/room/room").Room) => {
      for (let i = 0; i < 1005; i++) storeNow(r.core, alice.userId, { content: `m${i}` });
    });
    expect((await summaryOf(bob, room)).unreadCount).toBe(999);
  });
});
