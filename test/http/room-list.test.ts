/**
 * GET /api/rooms: the caller's rooms from the D1 index. The index is written by
 * each room's outbox alarm shortly after a change, so these tests poll.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ISO_MS, clockPast, drainOutbox, eventually, uniqueRoom, uniqueUser, user } from "../helpers";

type User = Awaited<ReturnType<typeof user>>;
interface Summary {
  roomId: string;
  kind: string;
  role: string;
  joinedTs: string;
  lastActivityTs: string;
  lastSeq: number;
}

async function rooms(u: User): Promise<Summary[]> {
  const res = await u.call<{ rooms: Summary[] }>("GET", "/api/rooms");
  expect(res.status).toBe(200);
  return res.body.rooms;
}

/** Polls the caller's room list until `accept` holds (up to ~5 s). */
function listUntil(u: User, accept: (list: Summary[]) => boolean, what: string): Promise<Summary[]> {
  return eventually(async () => {
    const list = await rooms(u);
    return accept(list) ? list : undefined;
  }, 5000, what);
}

const ids = (list: Summary[]) => list.map((r) => r.roomId);

describe("GET /api/rooms", () => {
  it("is empty for a user with no rooms", async () => {
    const nobody = await user(uniqueUser("nobody"));
    expect(await rooms(nobody)).toEqual([]);
  });

  it("lists a created room with its kind, role, times and last seq", async () => {
    const alice = await user(uniqueUser("alice"));
    const room = uniqueRoom();
    await alice.createRoom(room);
    const list = await listUntil(alice, (l) => ids(l).includes(room), "the created room");
    expect(list).toHaveLength(1);
    const summary = list[0]!;
    expect(summary).toMatchObject({ roomId: room, kind: "group", role: "owner", lastSeq: 1 });
    expect(summary.joinedTs).toMatch(ISO_MS);
    expect(summary.lastActivityTs).toMatch(ISO_MS);
  });

  it("shows a room the user joined, as member, and updates lastSeq with activity", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    const list = await listUntil(bob, (l) => ids(l).includes(room), "the joined room");
    expect(list[0]).toMatchObject({ roomId: room, kind: "group", role: "member" });
    const sent = await alice.send(room, "hello");
    await listUntil(bob, (l) => l[0]?.lastSeq === sent.body.seq, "lastSeq of the new message");
  });

  it("drops a room the user left", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    await listUntil(bob, (l) => ids(l).includes(room), "the joined room");
    await bob.leave(room);
    await listUntil(bob, (l) => !ids(l).includes(room), "the room to disappear");
    // The owner still has it.
    expect(ids(await rooms(alice))).toContain(room);
  });

  it("shows a room again after leaving and joining again", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    await bob.leave(room);
    await bob.join(room);
    // Every projection of the join, leave and join again is in D1 once the outbox is empty:
    // a list read before could still show the first join.
    await drainOutbox(env.ROOMS.getByName(room));
    const list = await listUntil(bob, (l) => ids(l).includes(room), "the rejoined room");
    expect(list[0]).toMatchObject({ roomId: room, role: "member", lastSeq: 4 });
  });

  it("sorts by most recent activity: a message in an older room moves it to the front", async () => {
    const alice = await user(uniqueUser("alice"));
    const older = uniqueRoom("older");
    const newer = uniqueRoom("newer");
    await alice.createRoom(older);
    // Each change must carry a later timestamp than the one before it.
    await clockPast((await listUntil(alice, (l) => l.length === 1, "the older room"))[0]!.lastActivityTs);
    await alice.createRoom(newer);
    const before = await listUntil(alice, (l) => l.length === 2, "both rooms");
    expect(ids(before)).toEqual([newer, older]);
    await clockPast(before[0]!.lastActivityTs);
    await alice.send(older, "bump");
    const after = await listUntil(alice, (l) => l[0]?.roomId === older, "the bumped room first");
    expect(ids(after)).toEqual([older, newer]);
    expect(Date.parse(after[0]!.lastActivityTs)).toBeGreaterThan(Date.parse(after[1]!.lastActivityTs));
  });

  it("lists direct rooms with kind direct", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const direct = (await alice.call("POST", `/api/direct/${bob.userId}`)).body.roomId as string;
    const list = await listUntil(bob, (l) => ids(l).includes(direct), "the direct room");
    expect(list[0]).toMatchObject({ roomId: direct, kind: "direct", role: "member" });
  });

  it("never lists another user's rooms", async () => {
    const alice = await user(uniqueUser("alice"));
    const carol = await user(uniqueUser("carol"));
    const room = uniqueRoom();
    await alice.createRoom(room);
    await listUntil(alice, (l) => ids(l).includes(room), "alice's room");
    expect(await rooms(carol)).toEqual([]);
  });
});
