/**
 * Undoing a room deletion: restore inside the window (by whom, and what
 * members and resuming sockets see), and the purge once the window passed.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { connect } from "../helpers";
import {
  type TestUser,
  adminUser,
  deleteRoom,
  groupRoom as sharedGroupRoom,
  restoreRoom,
  afterAlarms,
  auditAll,
  eventsOfType,
  eventually,
  expectError,
  newUser,
  roomCount,
  runAlarm,
  roomStub,
  sent,
  setUndoWindow,
  syncAll,
} from "./deletion-helpers";
import { manualClockOn } from "./helpers/clock";

const groupRoom = () => sharedGroupRoom("roomdel");

describe("undo", () => {
  it("restores the room for the deleter inside the window: sends, history with every earlier message, members' sync shows room_restored", async () => {
    const { alice, bob, carol, room } = await groupRoom();
    const earlier: Message[] = [];
    for (let i = 0; i < 5; i++) earlier.push((await (i % 2 ? bob : alice).send(room, `earlier ${i}`)).body);
    await runAlarm(room);
    expect((await deleteRoom(alice, room)).status).toBe(200);
    const res = await restoreRoom(alice, room);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: room, restored: true });
    expect((await restoreRoom(alice, room)).status).toBe(200); // restoring a live room is a no-op

    const after = await carol.send(room, "we are back");
    expect(after.status).toBe(201);
    const page = await bob.history(room);
    expect((page.body.messages as Message[]).map((m) => m.content)).toEqual([...earlier.map((m) => m.content), "we are back"]);
    const socket = await connect(carol.token, room);
    socket.close();

    for (const u of [bob, carol]) {
      await afterAlarms([room], async () => {
        const types = (await syncAll(u.token)).events.filter((e) => e.roomId === room).map((e) => e.type);
        const d = types.indexOf("room_deleted");
        return d >= 0 && types.indexOf("room_restored") > d ? true : undefined;
      }, 5000, `${u.userId} to see room_deleted then room_restored`);
    }
    // And it is listed again.
    await eventually(async () => (((await bob.call("GET", "/api/rooms")).body.rooms as Array<{ roomId: string }>).some((r) => r.roomId === room) ? true : undefined));
  });

  it("publishes room_restored in the log, so a socket resuming from before the deletion replays both", async () => {
    const { alice, bob, room } = await groupRoom();
    const first = await connect(bob.token, room);
    const live = first.frames.find((f) => f.type === "live") as Extract<(typeof first.frames)[number], { type: "live" }>;
    first.close();
    await deleteRoom(alice, room);
    await restoreRoom(alice, room);
    const resumed = await connect(bob.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    expect(eventsOfType(resumed, "room_deleted")).toHaveLength(1);
    expect(eventsOfType(resumed, "room_restored")).toEqual([expect.objectContaining({ restoredBy: alice.userId })]);
    resumed.close();
  });

  it("lets another owner-level actor restore (a deployment admin) but refuses a plain member with 403", async () => {
    const { alice, bob, room } = await groupRoom();
    await deleteRoom(alice, room);
    expectError(await restoreRoom(bob, room), 403, "forbidden");
    const stranger = await newUser("stranger");
    expectError(await restoreRoom(stranger, room), 403, "forbidden");
    expectError(await bob.send(room, "still deleted"), 410, "room_deleted");
    const admin = await adminUser();
    expect((await restoreRoom(admin, room)).status).toBe(200);
    expect((await bob.send(room, "restored by an admin")).status).toBe(201);
  });

  it("lets a direct room's participant who deleted it restore it", async () => {
    const a = await newUser("dm-a");
    const b = await newUser("dm-b");
    const roomId = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    await a.send(roomId, "hello");
    expect((await deleteRoom(b, roomId)).status).toBe(200);
    expect((await restoreRoom(b, roomId)).status).toBe(200);
    expect(((await a.history(roomId)).body.messages as Message[]).map((m) => m.content)).toEqual(["hello"]);
  });

  it("after the window passes and the alarm runs, purges the room: restore 410, no events left, audit room_purged", async () => {
    const { alice, bob, room } = await groupRoom();
    await bob.send(room, "will be purged");
    await alice.send(room, "me too");
    // A short window (the setting is honoured), crossed by moving the room's clock.
    await setUndoWindow(room, 50);
    const clock = await manualClockOn(roomStub(room));
    const res = await deleteRoom(alice, room);
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.restorableUntil) - Date.now()).toBeLessThan(1000);
    clock.set(Date.parse(res.body.restorableUntil) + 1);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM events")) === 0 ? true : undefined), 5000, "the purge");
    expect(await roomCount(room, "SELECT count(*) AS n FROM purge_queue")).toBe(0);
    expect(await roomCount(room, "SELECT count(*) AS n FROM members")).toBe(0);
    expectError(await restoreRoom(alice, room), 410, "room_deleted");
    expectError(await alice.history(room), 410, "room_deleted");
    expectError(await alice.createRoom(room), 410, "room_deleted");
    const admin = await adminUser();
    const entries = await afterAlarms([room], async () => {
      const all = await auditAll(admin.token, room);
      return all.some((e) => e.action === "room_purged") ? all : undefined;
    }, 5000, "room_purged in the audit log");
    expect(entries.find((e) => e.action === "room_purged")).toMatchObject({ roomId: room, actor: "system" });
    expect(entries.map((e) => e.action)).toContain("room_deleted");
  });

  it("lets the two participants of a purged direct room talk again: openDirect gives them an empty conversation", async () => {
    const a = await newUser("dm-a");
    const b = await newUser("dm-b");
    const roomId = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    await a.send(roomId, "before the purge");
    const clock = await manualClockOn(roomStub(roomId));
    const deleted = await deleteRoom(a, roomId);
    expect(deleted.status).toBe(200);
    clock.set(Date.parse(deleted.body.restorableUntil) + 1);
    await afterAlarms([roomId], async () => ((await roomCount(roomId, "SELECT count(*) AS n FROM events")) === 0 ? true : undefined), 5000, "the purge");
    // Deleting a conversation must not block the two users from ever messaging each other again.
    const again = await b.call("POST", `/api/direct/${a.userId}`);
    expect(again.status).toBe(200);
    const id = again.body.roomId as string;
    expect((await b.send(id, "hi again")).status).toBe(201);
    expect(((await a.history(id)).body.messages as Message[]).map((m) => m.content)).toEqual(["hi again"]);
  });

  it("refuses a restore once the window has passed even before the purge ran", async () => {
    const { alice, room } = await groupRoom();
    await sent(alice, room, "not purged yet");
    const clock = await manualClockOn(roomStub(room));
    const deleted = await deleteRoom(alice, room);
    expect(deleted.status).toBe(200);
    clock.set(Date.parse(deleted.body.restorableUntil) + 1);
    expectError(await restoreRoom(alice, room), 410, "room_deleted");
    // The purge is the alarm's, and no alarm has run: the messages are all still there.
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type = 'message'")).toBe(1);
  });
});
