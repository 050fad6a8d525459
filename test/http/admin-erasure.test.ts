/**
 * Erasure of a user through the deployment admin API: their messages in every
 * room tombstoned and destroyed, their sync log emptied, the act audited.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { drainOutbox, uniqueRoom } from "../helpers";
import { type TestUser, adminUser, afterAlarms, auditAll, expectError, newUser, roomSql, runAlarm, roomStub, syncAll } from "../room/deletion-helpers";

const sent = async (u: TestUser, room: string, content: string) => {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as Message;
};

describe("erasing a user", () => {
  /** dave in two rooms with messages of his own and of others; everything flushed to D1. */
  async function daveInTwoRooms() {
    const dave = await newUser("dave");
    const owner = await newUser("owner");
    const rooms = [uniqueRoom("erase"), uniqueRoom("erase")];
    const mine: Message[] = [];
    const others: Message[] = [];
    for (const room of rooms) {
      await owner.createRoom(room);
      await dave.join(room);
      mine.push(await sent(dave, room, `dave in ${room} #1`));
      others.push(await sent(owner, room, `owner in ${room}`));
      mine.push(await sent(dave, room, `dave in ${room} #2`));
      await runAlarm(room);
    }
    return { dave, owner, rooms, mine, others };
  }

  const erase = async (userId: string) => {
    const admin = await adminUser();
    return admin.call<any>("POST", `/api/admin/users/${userId}/erase`);
  };

  it("tombstones all their messages in every room and removes them, leaving others' messages alone", async () => {
    const { dave, owner, rooms, mine, others } = await daveInTwoRooms();
    const res = await erase(dave.userId);
    expect(res.status).toBe(200);
    // The answer gained its progress fields (GET .../erasure); the ones it had are as before.
    const { userId, rooms: roomCount, messages: messageCount } = res.body;
    expect({ userId, rooms: roomCount, messages: messageCount }).toEqual({ userId: dave.userId, rooms: 2, messages: 4 });
    expect(res.body).toMatchObject({ state: "done", roomsTotal: 2, roomsDone: 2 });
    for (const room of rooms) {
      const page = await owner.history(room);
      const messages = page.body.messages as Message[];
      for (const m of messages.filter((x) => x.sender === dave.userId)) {
        expect(m).toMatchObject({ content: "", deleted: true, deletedBy: "root" });
      }
      expect(messages.filter((x) => x.sender === dave.userId)).toHaveLength(2);
      expect(messages.filter((x) => x.sender === owner.userId).map((x) => x.content)).toEqual([`owner in ${room}`]);
      const users = (await owner.call("GET", `/api/rooms/${room}/active-users`)).body.users as string[];
      expect(users).toEqual([owner.userId]);
      expectError(await dave.history(room), 403, "not_member");
      const stored = await roomSql<{ n: number }>(room, "SELECT count(*) AS n FROM events WHERE actor = ? AND content IS NOT NULL AND type = 'message'", dave.userId);
      expect(stored[0]!.n).toBe(0);
    }
    await afterAlarms(rooms, async () => {
      for (const room of rooms) if ((await roomSql<{ n: number }>(room, "SELECT count(*) AS n FROM purge_queue"))[0]!.n > 0) return undefined;
      return true;
    }, 5000, "the erased content to be destroyed");
    expect(mine.length + others.length).toBe(6);
  });

  it("leaves their sync log empty, even after the rooms' outboxes have flushed", async () => {
    const { dave, rooms } = await daveInTwoRooms();
    expect((await syncAll(dave.token)).events.length).toBeGreaterThan(0);
    expect((await erase(dave.userId)).status).toBe(200);
    // Three alarm runs each, then until nothing is left to project: whatever the outboxes
    // had for the sync log has been written.
    for (let i = 0; i < 3; i++) for (const room of rooms) await runAlarm(room);
    for (const room of rooms) await drainOutbox(roomStub(room));
    expect((await syncAll(dave.token)).events).toEqual([]);
  });

  it("writes user_erased to the audit log", async () => {
    const { dave, rooms } = await daveInTwoRooms();
    expect((await erase(dave.userId)).status).toBe(200);
    const admin = await adminUser();
    const entries = await afterAlarms(rooms, async () => {
      const all = await auditAll(admin.token);
      const mine = all.filter((e) => e.action === "user_erased" && e.target === dave.userId);
      return mine.length > 0 ? mine : undefined;
    }, 5000, "user_erased");
    expect(entries.find((e) => e.roomId === null)).toMatchObject({ actor: "root", target: dave.userId });
  });

  it("keeps their erased content in the purge queue while a hold on them stands", async () => {
    const { dave, rooms, mine } = await daveInTwoRooms();
    const admin = await adminUser();
    const hold = await admin.call<any>("POST", "/api/admin/holds", { userId: dave.userId });
    expect(hold.status).toBe(201);
    expect((await erase(dave.userId)).status).toBe(200);
    for (const room of rooms) {
      await runAlarm(room);
      await runAlarm(room);
      const rows = await roomSql<{ sender: string; content: string; reason: string }>(room, "SELECT sender, content, reason FROM purge_queue ORDER BY id");
      expect(rows).toEqual([
        { sender: dave.userId, content: `dave in ${room} #1`, reason: "erased" },
        { sender: dave.userId, content: `dave in ${room} #2`, reason: "erased" },
      ]);
    }
    expect(mine).toHaveLength(4);
    expect((await admin.call("DELETE", `/api/admin/holds/${hold.body.holdId}`)).status).toBe(200);
  });

  it("reaches messages they left behind in rooms they are no longer a member of", async () => {
    const dave = await newUser("dave");
    const owner = await newUser("owner");
    const room = uniqueRoom("erase-left");
    await owner.createRoom(room);
    await dave.join(room);
    await sent(dave, room, "said before leaving");
    await dave.leave(room);
    await runAlarm(room);
    expect((await erase(dave.userId)).status).toBe(200);
    const messages = (await owner.history(room)).body.messages as Message[];
    expect(messages.map((m) => [m.sender, m.content, m.deleted ?? false])).toEqual([[dave.userId, "", true]]);
  });

  it("reaches a deleted room still inside its undo window, so a restore does not bring their messages back", async () => {
    const { dave, owner, rooms } = await daveInTwoRooms();
    expect((await owner.call("DELETE", `/api/rooms/${rooms[0]}`)).status).toBe(200);
    await runAlarm(rooms[0]!);
    const res = await erase(dave.userId);
    expect(res.status).toBe(200);
    expect(res.body.messages).toBe(4);
    expect((await owner.call("POST", `/api/rooms/${rooms[0]}/restore`)).status).toBe(200);
    const messages = (await owner.history(rooms[0]!)).body.messages as Message[];
    expect(messages.filter((m) => m.sender === dave.userId).map((m) => [m.content, m.deleted])).toEqual([
      ["", true],
      ["", true],
    ]);
  });

  it("is for deployment admins only", async () => {
    const { dave, owner } = await daveInTwoRooms();
    expectError(await owner.call("POST", `/api/admin/users/${dave.userId}/erase`), 403, "forbidden");
  });
});
