/**
 * Erasure beyond the messages: it reaches a room joined a moment ago (before
 * the D1 index knows of it), runs in bounded steps whose progress GET
 * reports, and leaves nothing of the user's account behind: push
 * subscriptions, privacy settings, mutes, the inbox's state, their id in
 * membership events, bans and audit rows.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import type { Inbox } from "../../src/user/inbox";
import { addSubscription, setMute } from "../../src/db/push";
import { writePrivacy } from "../../src/db/settings";
import { uniqueRoom } from "../helpers";
import { adminUser, auditAll, eventually, expectError, newUser, roomCount, roomSql, roomStub, runAlarm, sent } from "../room/deletion-helpers";

/** A D1 stand-in that refuses every batch: the room's outbox can never tell the index. */
const unreachableDb = {
  prepare: (query: string) => env.DB.prepare(query),
  batch: async () => {
    throw new Error("D1 is unavailable (test)");
  },
} as unknown as D1Database;

const inboxOf = (userId: string) => env.INBOXES.getByName(userId);
const erase = async (userId: string) => (await adminUser()).call<any>("POST", `/api/admin/users/${userId}/erase`);
const progress = async (userId: string) => (await adminUser()).call<any>("GET", `/api/admin/users/${userId}/erasure`);
const count = async (sql: string, ...args: unknown[]) => (await env.DB.prepare(sql).bind(...args).first<{ n: number }>())!.n;

describe("erasing a user", () => {
  it("reaches a room they joined a moment ago, which the D1 index does not list yet", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const room = uniqueRoom("erase-fresh");
    expect((await owner.createRoom(room)).status).toBe(201);
    // From here the room's outbox cannot reach D1: whatever the index knows of dave, it does not know this room.
    await runInDurableObject(roomStub(room), (instance: Room) => {
      instance.indexDb = unreachableDb;
    });
    expect((await dave.join(room)).status).toBe(200);
    await sent(dave, room, "said a second after joining");
    expect(await count("SELECT count(*) AS n FROM participation WHERE user_id = ? AND room_id = ?", dave.userId, room)).toBe(0);

    const res = await erase(dave.userId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ userId: dave.userId, rooms: 1, messages: 1, state: "done" });
    const messages = (await owner.history(room)).body.messages as Message[];
    expect(messages.filter((m) => m.sender === dave.userId).map((m) => [m.content, m.deleted])).toEqual([["", true]]);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE actor = ? AND type = 'message' AND content IS NOT NULL", dave.userId)).toBe(0);
    expectError(await dave.history(room), 403, "not_member");
  });

  it("runs in bounded steps and reports its progress until it is done", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const rooms = [uniqueRoom("erase-steps"), uniqueRoom("erase-steps"), uniqueRoom("erase-steps")];
    for (const room of rooms) {
      expect((await owner.createRoom(room)).status).toBe(201);
      expect((await dave.join(room)).status).toBe(200);
      for (let i = 0; i < 3; i++) await sent(dave, room, `dave ${i} in ${room}`);
    }
    expectError(await progress(dave.userId), 404, "not_found");
    // One room per step, two messages per room call, one step before the answer: the rest is the alarm's.
    await runInDurableObject(inboxOf(dave.userId), (inbox: Inbox) => {
      inbox.erasure.limits = { roomsPerStep: 1, messagesPerCall: 2, inlineSteps: 1 };
    });
    const first = await erase(dave.userId);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ userId: dave.userId, state: "running", step: "rooms", roomsTotal: 3, roomsDone: 0, messages: 2 });
    const running = await progress(dave.userId);
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({ state: "running", roomsTotal: 3, roomsDone: 0, messages: 2, finishedTs: null });

    const seen: number[] = [];
    const done = await eventually(async () => {
      await runDurableObjectAlarm(inboxOf(dave.userId));
      const now = (await progress(dave.userId)).body;
      seen.push(now.roomsDone);
      return now.state === "done" ? now : undefined;
    }, 10_000, "the erasure to finish");
    expect(done).toMatchObject({ state: "done", step: "done", roomsTotal: 3, roomsDone: 3, messages: 9, finishedTs: expect.any(String) });
    // Step by step: never more than one room finished per alarm.
    for (let i = 1; i < seen.length; i++) expect(seen[i]! - seen[i - 1]!).toBeLessThanOrEqual(1);
    for (const room of rooms) {
      expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE actor = ? AND type = 'message' AND deleted_ts IS NULL", dave.userId)).toBe(0);
      expect(await roomCount(room, "SELECT count(*) AS n FROM members WHERE user_id = ?", dave.userId)).toBe(0);
    }
  });

  it("removes their push subscriptions, settings, mutes and inbox, and their id from membership events, bans and audit rows", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const eve = await newUser("eve");
    const room = uniqueRoom("erase-account");
    expect((await owner.createRoom(room)).status).toBe(201);
    expect((await dave.join(room)).status).toBe(200);
    expect((await eve.join(room)).status).toBe(200);
    await sent(dave, room, "hello");
    // An audited change naming dave (role_changed), flushed to D1 before the erasure.
    expect((await owner.call("PUT", `/api/rooms/${room}/members/${dave.userId}/role`, { role: "admin" })).status).toBeLessThan(300);
    await runAlarm(room);
    await addSubscription(env.DB, dave.userId, { endpoint: `https://fcm.googleapis.com/fcm/send/${dave.userId}`, p256dh: "p", auth: "a" });
    await setMute(env.DB, dave.userId, room, null);
    await writePrivacy(env.DB, dave.userId, { presenceHidden: true, receiptsPrivate: true });
    await runInDurableObject(roomStub(room), (instance: Room) => {
      instance.core.members.ban(dave.userId, owner.userId, "owner", Date.now());
      instance.core.members.ban(`${eve.userId}-other`, dave.userId, "admin", Date.now());
    });
    await eventually(async () => ((await runInDurableObject(inboxOf(dave.userId), (inbox: Inbox) => inbox.rooms().length)) > 0 ? true : undefined), 5000, "dave's inbox to know the room");

    const res = await erase(dave.userId);
    expect(res.body).toMatchObject({ state: "done" });
    await runAlarm(room);

    expect(await count("SELECT count(*) AS n FROM push_subscriptions WHERE user_id = ?", dave.userId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM room_mutes WHERE user_id = ?", dave.userId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM user_settings WHERE user_id = ?", dave.userId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM sync_log WHERE user_id = ?", dave.userId)).toBe(0);
    const inbox = await runInDurableObject(inboxOf(dave.userId), (instance: Inbox, state) => ({
      rooms: instance.rooms().length,
      record: instance.memberships.rooms().length,
      tickets: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tickets").one().n,
    }));
    expect(inbox).toEqual({ rooms: 0, record: 0, tickets: 0 });

    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE actor = ? AND type <> 'message'", dave.userId)).toBe(0);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type <> 'message' AND instr(coalesce(data, ''), ?) > 0", dave.userId)).toBe(0);
    expect(await roomSql(room, "SELECT user_id FROM bans WHERE user_id = ? OR banned_by = ?", dave.userId, dave.userId)).toEqual([]);
    expect(await roomCount(room, "SELECT count(*) AS n FROM bans WHERE user_id = ?", `${eve.userId}-other`)).toBe(1);

    const audit = await auditAll((await adminUser()).token);
    const naming = audit.filter((e) => (e.actor === dave.userId || e.target === dave.userId) && e.action !== "user_erased");
    expect(naming).toEqual([]);
    expect(audit.filter((e) => e.action === "user_erased" && e.target === dave.userId && e.roomId === null)).toHaveLength(1);
  });
});
