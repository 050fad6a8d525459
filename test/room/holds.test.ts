/**
 * Legal holds: content taken out of users' reach (deleted, edited away,
 * erased, or a whole deleted room) is not destroyed while a hold on the room
 * or on its sender stands; released, it is destroyed by the next alarm.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { uniqueRoom } from "../helpers";
import {
  type TestUser,
  adminUser,
  afterAlarms,
  eventually,
  expectError,
  newUser,
  roomCount,
  roomSql,
  runAlarm,
  roomStub,
} from "./deletion-helpers";
import { manualClockOn } from "./helpers/clock";

async function groupRoom() {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const room = uniqueRoom("holds");
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  return { alice, bob, room };
}

const del = (u: TestUser, room: string, id: string) => u.call<any>("DELETE", `/api/rooms/${room}/messages/${encodeURIComponent(id)}`);
const sent = async (u: TestUser, room: string, content: string) => {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as Message;
};

async function placeHold(body: { roomId: string } | { userId: string }) {
  const admin = await adminUser();
  const res = await admin.call<any>("POST", "/api/admin/holds", { ...body, reason: "litigation 42" });
  expect(res.status).toBe(201);
  return res.body as { holdId: string; kind: string; target: string };
}

async function releaseHold(holdId: string) {
  const admin = await adminUser();
  const res = await admin.call<any>("DELETE", `/api/admin/holds/${holdId}`);
  expect(res.status).toBe(200);
  return res.body;
}

const queued = (room: string) => roomSql<{ msg_id: string; sender: string; content: string; reason: string }>(room, "SELECT msg_id, sender, content, reason FROM purge_queue ORDER BY id");

/**
 * Runs the room's alarm a few times (flush, purge, rescheduled work). Each
 * run returns once the alarm handler has finished, purge included, so what
 * is still queued afterwards was kept on purpose.
 */
async function drainAlarms(room: string) {
  for (let i = 0; i < 3; i++) await runAlarm(room);
}

describe("a hold on a room", () => {
  it("answers 201 with the hold, and lists it among active holds", async () => {
    const { room } = await groupRoom();
    const hold = await placeHold({ roomId: room });
    expect(hold).toMatchObject({ kind: "room", target: room, reason: "litigation 42", placedBy: "root", releasedTs: null });
    expect(hold.holdId).toMatch(/^hold_/);
    const admin = await adminUser();
    const list = await admin.call<any>("GET", "/api/admin/holds");
    expect(list.status).toBe(200);
    expect(list.body.holds.some((h: { holdId: string }) => h.holdId === hold.holdId)).toBe(true);
    await releaseHold(hold.holdId);
    const active = await admin.call<any>("GET", "/api/admin/holds");
    expect(active.body.holds.some((h: { holdId: string }) => h.holdId === hold.holdId)).toBe(false);
    const all = await admin.call<any>("GET", "/api/admin/holds?all=true");
    expect(all.body.holds.find((h: { holdId: string }) => h.holdId === hold.holdId)).toMatchObject({ releasedBy: "root", releasedTs: expect.any(String) });
  });

  it("keeps a deleted message's content out of users' reach but in the purge queue; released, the alarm destroys it", async () => {
    const { bob, room } = await groupRoom();
    const hold = await placeHold({ roomId: room });
    const m = await sent(bob, room, "evidence");
    expect((await del(bob, room, m.id)).status).toBe(200);
    const page = await bob.history(room);
    expect(page.body.messages.find((x: Message) => x.id === m.id)).toMatchObject({ content: "", deleted: true });
    expect(JSON.stringify(page.body)).not.toContain("evidence");
    await drainAlarms(room);
    expect(await queued(room)).toEqual([{ msg_id: m.id, sender: bob.userId, content: "evidence", reason: "message_deleted" }]);

    await releaseHold(hold.holdId);
    await afterAlarms([room], async () => ((await queued(room)).length === 0 ? true : undefined), 5000, "the purge after release");
  });

  it("stays held while a second hold on the same room stands", async () => {
    const { bob, room } = await groupRoom();
    const first = await placeHold({ roomId: room });
    const second = await placeHold({ roomId: room });
    const m = await sent(bob, room, "doubly held");
    await del(bob, room, m.id);
    await releaseHold(first.holdId);
    await drainAlarms(room);
    expect((await queued(room)).map((r) => r.msg_id)).toEqual([m.id]);
    await releaseHold(second.holdId);
    await afterAlarms([room], async () => ((await queued(room)).length === 0 ? true : undefined));
  });

  it("survives the room's deletion: past the window nothing is purged and restore is refused; released, the room is purged", async () => {
    const { alice, bob, room } = await groupRoom();
    await sent(bob, room, "keep this");
    await sent(alice, room, "and this");
    const hold = await placeHold({ roomId: room });
    const clock = await manualClockOn(roomStub(room));
    const deleted = await alice.call("DELETE", `/api/rooms/${room}`);
    expect(deleted.status).toBe(200);
    clock.set(Date.parse(deleted.body.restorableUntil) + 1);
    await drainAlarms(room);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type = 'message'")).toBe(2);
    expectError(await alice.call("POST", `/api/rooms/${room}/restore`), 410, "room_deleted");
    expectError(await alice.history(room), 410, "room_deleted");

    await releaseHold(hold.holdId);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM events")) === 0 ? true : undefined), 5000, "the purge after release");
    expectError(await alice.call("POST", `/api/rooms/${room}/restore`), 410, "room_deleted");
  });

  it("refuses a hold on a room that does not exist with 404 room_not_found", async () => {
    const admin = await adminUser();
    expectError(await admin.call("POST", "/api/admin/holds", { roomId: uniqueRoom("nowhere") }), 404, "room_not_found");
  });

  it("answers 404 for releasing an unknown hold, and 400 for a body naming neither room nor user", async () => {
    const admin = await adminUser();
    expectError(await admin.call("DELETE", "/api/admin/holds/hold_nope"), 404, "not_found");
    expectError(await admin.call("POST", "/api/admin/holds", { reason: "nothing" }), 400, "invalid_request");
  });
});

describe("a hold on a user", () => {
  it("keeps that user's deleted content while another user's is destroyed", async () => {
    const { alice, bob, room } = await groupRoom();
    const hold = await placeHold({ userId: bob.userId });
    expect(hold).toMatchObject({ kind: "user", target: bob.userId });
    const fromBob = await sent(bob, room, "bob's held words");
    const fromAlice = await sent(alice, room, "alice's words");
    await del(bob, room, fromBob.id);
    await del(alice, room, fromAlice.id);
    await afterAlarms([room], async () => ((await queued(room)).every((r) => r.sender === bob.userId) ? true : undefined));
    expect(await queued(room)).toEqual([{ msg_id: fromBob.id, sender: bob.userId, content: "bob's held words", reason: "message_deleted" }]);
    // Out of reach all the same.
    expect((await alice.history(room)).body.messages.map((m: Message) => m.content)).toEqual(["", ""]);

    await releaseHold(hold.holdId);
    await afterAlarms([room], async () => ((await queued(room)).length === 0 ? true : undefined), 5000, "the purge after release");
  });

  it("keeps that user's messages of a purged room while the rest goes", async () => {
    const { alice, bob, room } = await groupRoom();
    const hold = await placeHold({ userId: bob.userId });
    await sent(bob, room, "held");
    await sent(alice, room, "not held");
    const clock = await manualClockOn(roomStub(room));
    const deleted = await alice.call("DELETE", `/api/rooms/${room}`);
    expect(deleted.status).toBe(200);
    clock.set(Date.parse(deleted.body.restorableUntil) + 1);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM events WHERE actor = ?", alice.userId)) === 0 ? true : undefined));
    expect(await roomSql(room, "SELECT actor, content FROM events")).toEqual([{ actor: bob.userId, content: "held" }]);
    expectError(await bob.history(room), 410, "room_deleted");

    await releaseHold(hold.holdId);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM events")) === 0 ? true : undefined), 5000, "the purge after release");
  });
});

describe("releasing a user hold", () => {
  it("destroys an erased user's held content within seconds, though they are no longer a member anywhere", async () => {
    const { alice, bob, room } = await groupRoom();
    await sent(bob, room, "erased but held");
    await runAlarm(room);
    const hold = await placeHold({ userId: bob.userId });
    const admin = await adminUser();
    expect((await admin.call("POST", `/api/admin/users/${bob.userId}/erase`)).status).toBe(200);
    await drainAlarms(room);
    expect((await queued(room)).map((r) => r.content)).toEqual(["erased but held"]);
    expect((await alice.call("GET", `/api/rooms/${room}/active-users`)).body.users).toEqual([alice.userId]);

    await releaseHold(hold.holdId);
    // No alarm forced: the release itself must get the room to look again now, not on the hourly recheck.
    await eventually(async () => ((await queued(room)).length === 0 ? true : undefined), 5000, "the purge after release");
  });
});

describe("admin routes", () => {
  it("refuse users without the admin claim with 403 forbidden", async () => {
    const { alice, room } = await groupRoom();
    const calls: Array<[string, string, unknown?]> = [
      ["POST", "/api/admin/holds", { roomId: room }],
      ["GET", "/api/admin/holds"],
      ["DELETE", "/api/admin/holds/hold_x"],
      ["GET", "/api/admin/audit"],
      ["POST", `/api/admin/users/${alice.userId}/erase`],
    ];
    for (const [method, path, body] of calls) expectError(await alice.call(method, path, body), 403, "forbidden");
    // Nothing happened: the room is not held, alice is still a member.
    expect((await alice.history(room)).status).toBe(200);
  });
});
