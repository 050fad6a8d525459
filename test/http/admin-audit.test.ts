/**
 * The deployment admin API's audit log: what was deleted, edited, restored,
 * purged and held, by whom; paged, and for deployment admins only.
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
  runAlarm,
  roomStub,
  setUndoWindow,
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
