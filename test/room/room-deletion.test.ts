/**
 * Deleting a whole conversation: who may, what live sockets see, what every
 * later call answers, and the send/join races. (Undo inside the window and
 * the purge after it are room-restore.test.ts.)
 */
import { SELF } from "cloudflare:test";
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
  eventsOfType,
  eventually,
  expectError,
  newUser,
  roomCount,
  roomSql,
} from "./deletion-helpers";

const groupRoom = () => sharedGroupRoom("roomdel");

async function roomDeletedSeq(room: string): Promise<number> {
  const rows = await roomSql<{ seq: number }>(room, "SELECT seq FROM events WHERE type = 'room_deleted' ORDER BY seq DESC LIMIT 1");
  expect(rows).toHaveLength(1);
  return rows[0]!.seq;
}

describe("who may delete a room", () => {
  it("lets the owner delete a group room, answering restorableUntil about ten minutes ahead", async () => {
    const { alice, room } = await groupRoom();
    const before = Date.now();
    const res = await deleteRoom(alice, room);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roomId: room, deleted: true });
    const until = Date.parse(res.body.restorableUntil);
    expect(until).toBeGreaterThanOrEqual(before + 10 * 60_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 10 * 60_000 + 1000);
  });

  it("refuses a plain member with 403 forbidden and a non-member with not_member; the room goes on", async () => {
    const { bob, room } = await groupRoom();
    expectError(await deleteRoom(bob, room), 403, "forbidden");
    const mallory = await newUser("mallory");
    expectError(await deleteRoom(mallory, room), 403, "not_member");
    expect((await bob.send(room, "still here")).status).toBe(201);
  });

  it("lets a deployment admin delete any room", async () => {
    const { bob, room } = await groupRoom();
    const admin = await adminUser();
    expect((await deleteRoom(admin, room)).status).toBe(200);
    expectError(await bob.send(room, "gone?"), 410, "room_deleted");
  });

  it("lets either participant delete a direct room", async () => {
    for (const deleter of ["first", "second"] as const) {
      const a = await newUser("dm-a");
      const b = await newUser("dm-b");
      const open = await a.call("POST", `/api/direct/${b.userId}`);
      expect(open.status).toBe(200);
      const roomId = open.body.roomId as string;
      expect((await b.send(roomId, "hi")).status).toBe(201);
      const res = await deleteRoom(deleter === "first" ? a : b, roomId);
      expect(res.status).toBe(200);
      expectError(await a.send(roomId, "hello?"), 410, "room_deleted");
      expectError(await b.history(roomId), 410, "room_deleted");
      expectError(await a.call("POST", `/api/direct/${b.userId}`), 410, "room_deleted");
    }
  });
});

describe("what live sockets see", () => {
  it("sends room_deleted to every member's sockets, both devices of one user included, then closes them with 4004", async () => {
    const { alice, bob, carol, room } = await groupRoom();
    const sockets = [
      await connect(alice.token, room),
      await connect(bob.token, room),
      await connect(bob.token, room), // bob's second device
      await connect(carol.token, room),
    ];
    const res = await deleteRoom(alice, room);
    expect(res.status).toBe(200);
    const seq = await roomDeletedSeq(room);
    for (const socket of sockets) {
      const closed = await socket.waitClosed(3000);
      expect(closed.code).toBe(4004);
      const deleted = eventsOfType(socket, "room_deleted");
      expect(deleted).toHaveLength(1);
      expect(deleted[0]).toMatchObject({ seq, deletedBy: alice.userId, restorableUntil: res.body.restorableUntil });
      // room_deleted is the last thing the socket got.
      const last = socket.frames[socket.frames.length - 1]!;
      expect(last).toMatchObject({ type: "event", seq });
    }
  });

  it("refuses a new socket: no ticket, 410 room_deleted", async () => {
    const { bob, room, alice } = await groupRoom();
    await deleteRoom(alice, room);
    expectError(await bob.call("POST", `/api/rooms/${room}/connect-ticket`), 410, "room_deleted");
  });

  it("closes with 4004 a socket that was open but had not said hello yet", async () => {
    const { alice, bob, room } = await groupRoom();
    const socket = await connect(bob.token, room, { hello: false });
    await deleteRoom(alice, room);
    const closed = await socket.waitClosed(3000);
    expect(closed.code).toBe(4004);
  });

  it("refuses the upgrade of a ticket issued before the deletion with 410 room_deleted", async () => {
    const { alice, bob, room } = await groupRoom();
    const ticket = await bob.call<{ url: string }>("POST", `/api/rooms/${room}/connect-ticket`);
    expect(ticket.status).toBe(200);
    await deleteRoom(alice, room);
    const res = await SELF.fetch(`https://localhost${ticket.body.url}`, { headers: { Upgrade: "websocket" } });
    expect(res.webSocket).toBeFalsy();
    expect(res.status).toBe(410);
    expect(((await res.json()) as any).error.code).toBe("room_deleted");
  });
});

describe("after a room is deleted", () => {
  it("answers every room operation with 410 room_deleted", async () => {
    const { alice, bob, room } = await groupRoom();
    const m = (await bob.send(room, "before")).body as Message;
    expect((await deleteRoom(alice, room)).status).toBe(200);
    const outsider = await newUser("dave");
    const calls: Array<[string, Promise<any>]> = [
      ["send", bob.send(room, "after")],
      ["history", bob.history(room)],
      ["join (outsider)", outsider.join(room)],
      ["join (member)", bob.join(room)],
      ["leave", bob.leave(room)],
      ["members", bob.call("GET", `/api/rooms/${room}/members`)],
      ["active-users", bob.call("GET", `/api/rooms/${room}/active-users`)],
      ["connect-ticket", bob.call("POST", `/api/rooms/${room}/connect-ticket`)],
      ["edit", bob.call("PATCH", `/api/rooms/${room}/messages/${m.id}`, { content: "edited" })],
      ["delete message", bob.call("DELETE", `/api/rooms/${room}/messages/${m.id}`)],
      ["delete message (owner)", alice.call("DELETE", `/api/rooms/${room}/messages/${m.id}`)],
      ["delete room again", deleteRoom(alice, room)],
    ];
    const results = await Promise.all(calls.map(async ([name, p]) => [name, (await p).status, (await p).body?.error?.code]));
    expect(results).toEqual(calls.map(([name]) => [name, 410, "room_deleted"]));
  });

  it("refuses to create a room with the same id: 410 room_deleted, the id is not reusable", async () => {
    const { alice, room } = await groupRoom();
    await deleteRoom(alice, room);
    expectError(await alice.createRoom(room), 410, "room_deleted");
    const other = await newUser("squatter");
    expectError(await other.createRoom(room), 410, "room_deleted");
  });

  it("drops it from listRooms within a few seconds", async () => {
    const { alice, bob, room } = await groupRoom();
    const listed = async (u: TestUser) => ((await u.call("GET", "/api/rooms")).body.rooms as Array<{ roomId: string }>).some((r) => r.roomId === room);
    await afterAlarms([room], async () => ((await listed(bob)) ? true : undefined), 5000, "room to be listed");
    await deleteRoom(alice, room);
    await eventually(async () => (!(await listed(alice)) && !(await listed(bob)) ? true : undefined), 5000, "room to leave listRooms");
  });
});

describe("races with a deletion", () => {
  it("stores each of 50 concurrent sends before the deletion (201) or refuses it (410); nothing is stored after", async () => {
    const { alice, bob, carol, room } = await groupRoom();
    // Five senders, ten sends each: inside every sender's rate-limit burst, so each answer is 201 or 410.
    const senders = [alice, bob, carol, ...(await Promise.all([newUser("dave"), newUser("erin")]))];
    for (const u of senders.slice(3)) expect((await u.join(room)).status).toBe(200);
    const sends = Array.from({ length: 50 }, (_, i) => senders[i % senders.length]!.send(room, `race ${i}`));
    // The deletion is issued in the middle of the burst, so both outcomes occur.
    const all = await Promise.all([...sends.slice(0, 25), deleteRoom(alice, room), ...sends.slice(25)]);
    const deletion = all[25];
    const answers = [...all.slice(0, 25), ...all.slice(26)];
    expect(deletion!.status).toBe(200);
    const deletedSeq = await roomDeletedSeq(room);
    const stored: Message[] = [];
    for (const res of answers) {
      if (res.status === 201) stored.push(res.body);
      else expectError(res, 410, "room_deleted");
    }
    for (const m of stored) expect(m.seq).toBeLessThan(deletedSeq);
    // Nothing after the deletion in the log, whatever the answers said.
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE seq > ?", deletedSeq)).toBe(0);
    // Restore and read: history holds exactly the acknowledged messages.
    expect((await restoreRoom(alice, room)).status).toBe(200);
    const page = await alice.history(room, "limit=200");
    expect(page.status).toBe(200);
    const ids = (page.body.messages as Message[]).map((m) => m.id).sort();
    expect(ids).toEqual(stored.map((m) => m.id).sort());
  });

  it("lets each of 20 concurrent joins in before the deletion or refuses it with 410; no member joins after", async () => {
    const { alice, room } = await groupRoom();
    const joiners = await Promise.all(Array.from({ length: 20 }, () => newUser("joiner")));
    const joins = joiners.map((u) => u.join(room));
    const all = await Promise.all([...joins.slice(0, 10), deleteRoom(alice, room), ...joins.slice(10)]);
    const deletion = all[10];
    const answers = [...all.slice(0, 10), ...all.slice(11)];
    expect(deletion!.status).toBe(200);
    const deletedSeq = await roomDeletedSeq(room);
    const joined = new Set<string>();
    answers.forEach((res, i) => {
      if (res.status === 200) {
        expect(res.body).toMatchObject({ joined: true });
        joined.add(joiners[i]!.userId);
      } else expectError(res, 410, "room_deleted");
    });
    const joinRows = await roomSql<{ actor: string; seq: number }>(room, "SELECT actor, seq FROM events WHERE type = 'member_joined'");
    for (const row of joinRows) expect(row.seq).toBeLessThan(deletedSeq);
    const joinerIds = new Set(joiners.map((u) => u.userId));
    expect(new Set(joinRows.filter((r) => joinerIds.has(r.actor)).map((r) => r.actor))).toEqual(joined);
    expect((await restoreRoom(alice, room)).status).toBe(200);
    const users = (await alice.call("GET", `/api/rooms/${room}/active-users`)).body.users as string[];
    expect(new Set(users.filter((u) => joinerIds.has(u)))).toEqual(joined);
  });
});
