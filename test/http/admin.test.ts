/**
 * The deployment admin API: the audit log (what was deleted, edited,
 * restored, purged, held and erased, by whom) and erasure of a user.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { drainOutbox, uniqueRoom } from "../helpers";
import {
  type AuditRow,
  type TestUser,
  adminUser,
  afterAlarms,
  auditAll,
  expectError,
  newUser,
  roomSql,
  runAlarm,
  roomStub,
  setUndoWindow,
  syncAll,
} from "../room/deletion-helpers";

async function groupRoom(prefix = "admin") {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const room = uniqueRoom(prefix);
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  return { alice, bob, room };
}

const sent = async (u: TestUser, room: string, content: string) => {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as Message;
};

/** Polls the room's audit entries (running its alarm) until `want` holds. */
function auditUntil(adminToken: string, room: string, want: (entries: AuditRow[]) => boolean, what: string) {
  return afterAlarms([room], async () => {
    const entries = await auditAll(adminToken, room);
    return want(entries) ? entries : undefined;
  }, 5000, what);
}

const count = (entries: AuditRow[], action: string) => entries.filter((e) => e.action === action).length;

describe("the audit log", () => {
  it("records edits, deletions, room deletion, restore, holds and the purge, each with actor and roomId", async () => {
    const { alice, bob, room } = await groupRoom();
    const admin = await adminUser();
    const m1 = await sent(bob, room, "one");
    const m2 = await sent(bob, room, "two");
    expect((await bob.call("PATCH", `/api/rooms/${room}/messages/${m1.id}`, { content: "one!" })).status).toBe(200);
    expect((await alice.call("DELETE", `/api/rooms/${room}/messages/${m2.id}`)).status).toBe(200);
    const hold = await admin.call<any>("POST", "/api/admin/holds", { roomId: room });
    expect(hold.status).toBe(201);
    expect((await admin.call("DELETE", `/api/admin/holds/${hold.body.holdId}`)).status).toBe(200);
    expect((await alice.call("DELETE", `/api/rooms/${room}`)).status).toBe(200);
    expect((await alice.call("POST", `/api/rooms/${room}/restore`)).status).toBe(200);
    await setUndoWindow(room, 50);
    expect((await alice.call("DELETE", `/api/rooms/${room}`)).status).toBe(200);
    // auditUntil runs the alarm until the purge is there: the 50 ms window passes meanwhile.

    const entries = await auditUntil(admin.token, room, (e) => count(e, "room_purged") > 0, "room_purged");
    const find = (action: string) => entries.find((e) => e.action === action);
    expect(find("message_edited")).toMatchObject({ actor: bob.userId, roomId: room, target: m1.id });
    expect(find("message_deleted")).toMatchObject({ actor: alice.userId, roomId: room, target: m2.id });
    expect(find("hold_placed")).toMatchObject({ actor: "root", roomId: room });
    expect(find("hold_released")).toMatchObject({ actor: "root", roomId: room });
    expect(find("room_deleted")).toMatchObject({ actor: alice.userId, roomId: room });
    expect(find("room_restored")).toMatchObject({ actor: alice.userId, roomId: room });
    expect(find("room_purged")).toMatchObject({ actor: "system", roomId: room });
    for (const e of entries) {
      expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof e.id).toBe("string");
    }
    // Ordered by seq, and the content itself is never in the log.
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(JSON.stringify(entries)).not.toMatch(/"one!?"|"two"/);
    expect(count(entries, "room_deleted")).toBe(2);
  });

  it("records each hold once: one hold_placed and one hold_released entry per room hold", async () => {
    const { room } = await groupRoom();
    const admin = await adminUser();
    const hold = await admin.call<any>("POST", "/api/admin/holds", { roomId: room });
    await admin.call("DELETE", `/api/admin/holds/${hold.body.holdId}`);
    const entries = await auditUntil(admin.token, room, (e) => count(e, "hold_released") > 0, "hold entries");
    // A duplicate would come from the outbox: run the alarm, then empty the outbox, so
    // everything the room had to write to the audit log is there before counting.
    await runAlarm(room);
    await drainOutbox(roomStub(room));
    const settled = await auditAll(admin.token, room);
    expect(count(settled, "hold_placed")).toBe(1);
    expect(count(settled, "hold_released")).toBe(1);
    expect(entries.length).toBeGreaterThan(0);
  });

  it("records room_purged once, not again on every hold recheck while a user hold keeps part of the room", async () => {
    const { alice, bob, room } = await groupRoom();
    const admin = await adminUser();
    const hold = await admin.call<any>("POST", "/api/admin/holds", { userId: bob.userId });
    await sent(bob, room, "held");
    await sent(alice, room, "not held");
    await setUndoWindow(room, 50);
    await alice.call("DELETE", `/api/rooms/${room}`);
    await auditUntil(admin.token, room, (e) => count(e, "room_purged") > 0, "the first purge");
    // Rechecks (hourly in production) find nothing new to destroy.
    for (let i = 0; i < 4; i++) await runAlarm(room);
    await afterAlarms([room], async () => true);
    const entries = await auditAll(admin.token, room);
    expect(count(entries, "room_purged")).toBe(1);
    await admin.call("DELETE", `/api/admin/holds/${hold.body.holdId}`);
  });

  it("pages with after and limit: every entry once, in order, nextAfter null at the end", async () => {
    const { bob, room } = await groupRoom();
    const admin = await adminUser();
    for (let i = 0; i < 7; i++) {
      const m = await sent(bob, room, `m${i}`);
      await bob.call("DELETE", `/api/rooms/${room}/messages/${m.id}`);
    }
    const all = await auditUntil(admin.token, room, (e) => count(e, "message_deleted") === 7, "7 deletions");
    const paged: AuditRow[] = [];
    const sizes: number[] = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const res = await admin.call<any>("GET", `/api/admin/audit?roomId=${room}&limit=3&after=${after}`);
      expect(res.status).toBe(200);
      paged.push(...res.body.entries);
      sizes.push(res.body.entries.length);
      if (res.body.nextAfter === null) break;
      expect(res.body.nextAfter).toBe(res.body.entries[res.body.entries.length - 1].seq);
      after = res.body.nextAfter;
    }
    expect(paged).toEqual(all);
    expect(sizes.slice(0, -1).every((n) => n === 3)).toBe(true);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(3);
    // Without a room filter the same entries are there too, among others.
    const unfiltered = await admin.call<any>("GET", `/api/admin/audit?after=${all[0]!.seq - 1}&limit=500`);
    expect(unfiltered.body.entries.map((e: AuditRow) => e.id)).toEqual(expect.arrayContaining(all.map((e) => e.id)));
  });

  it("refuses bad paging parameters with 400", async () => {
    const admin = await adminUser();
    expectError(await admin.call("GET", "/api/admin/audit?limit=0"), 400, "invalid_request");
    expectError(await admin.call("GET", "/api/admin/audit?limit=501"), 400, "invalid_request");
    expectError(await admin.call("GET", "/api/admin/audit?after=-1"), 400, "invalid_request");
  });

  it("is for deployment admins only: 403 forbidden otherwise", async () => {
    const { alice, room } = await groupRoom();
    expectError(await alice.call("GET", "/api/admin/audit"), 403, "forbidden");
    expectError(await alice.call("GET", `/api/admin/audit?roomId=${room}`), 403, "forbidden");
  });
});

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
    expect(res.body).toEqual({ userId: dave.userId, rooms: 2, messages: 4 });
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
