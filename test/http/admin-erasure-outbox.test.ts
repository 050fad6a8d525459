/**
 * Erasure and what a room has not yet told D1: rows still in the room's
 * outbox when the user is erased (an audited change naming them, their
 * membership) reach D1 after the account step, and must bring nothing of
 * the user back; and the room's own tables (media uploads, presence) stop
 * naming them.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { placeHold } from "../../src/db/compliance";
import { uniqueRoom } from "../helpers";
import { adminUser, eventually, newUser, roomCount, roomStub, runAlarm } from "../room/deletion-helpers";

/** A D1 stand-in that refuses every batch: the room's outbox can never tell the index. */
const unreachableDb = {
  prepare: (query: string) => env.DB.prepare(query),
  batch: async () => {
    throw new Error("D1 is unavailable (test)");
  },
} as unknown as D1Database;

const erase = async (userId: string) => (await adminUser()).call<any>("POST", `/api/admin/users/${userId}/erase`);
const count = async (sql: string, ...args: unknown[]) => (await env.DB.prepare(sql).bind(...args).first<{ n: number }>())!.n;
const setIndexDb = (room: string, db: D1Database) =>
  runInDurableObject(roomStub(room), (instance: Room) => {
    instance.indexDb = db;
  });
/** Runs the room's alarm until its outbox is empty (everything it held is in D1). */
const drained = (room: string) =>
  eventually(async () => {
    await runAlarm(room);
    return (await roomCount(room, "SELECT count(*) AS n FROM outbox")) === 0 ? true : undefined;
  }, 10_000, "the room's outbox to drain");

describe("erasing a user whose room has not flushed yet", () => {
  it("lets no outbox row put the user back in D1 after the account step", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const room = uniqueRoom("erase-outbox");
    expect((await owner.createRoom(room)).status).toBe(201);
    expect((await dave.join(room)).status).toBe(200);
    await drained(room);
    expect(await count("SELECT count(*) AS n FROM participation WHERE user_id = ?", dave.userId)).toBe(1);

    // From here the room's outbox cannot reach D1: the role change (an audit row naming dave, his membership row) waits in it.
    await setIndexDb(room, unreachableDb);
    expect((await owner.call("PUT", `/api/rooms/${room}/members/${dave.userId}/role`, { role: "admin" })).status).toBeLessThan(300);
    expect(await roomCount(room, "SELECT count(*) AS n FROM outbox WHERE instr(payload, ?) > 0", dave.userId)).toBeGreaterThan(0);

    const res = await erase(dave.userId);
    expect(res.body).toMatchObject({ state: "done" });
    // The account step is done; now D1 is back and the room's outbox flushes.
    await setIndexDb(room, env.DB);
    await drained(room);

    expect(await count("SELECT count(*) AS n FROM memberships WHERE user_id = ?", dave.userId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM participation WHERE user_id = ?", dave.userId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM sync_log WHERE user_id = ?", dave.userId)).toBe(0);
    const naming = await env.DB.prepare("SELECT action FROM audit_log WHERE (actor = ? OR target = ?) AND action <> 'user_erased'")
      .bind(dave.userId, dave.userId)
      .all<{ action: string }>();
    expect(naming.results).toEqual([]);
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE action = 'user_erased' AND target = ? AND room_id IS NULL", dave.userId)).toBe(1);
    // The role change itself is still on record, under the pseudonym.
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE room_id = ? AND action = 'role_changed'", room)).toBe(1);
  });

  /** An upload by `userId` and a pending offline announcement of them, as the room would have them. */
  const seed = (room: string, userId: string) =>
    runInDurableObject(roomStub(room), (instance: Room, state) => {
      const mediaId = `m_${crypto.randomUUID()}`;
      instance.core.media.begin({ mediaId, uploader: userId, key: `test/${mediaId}`, filename: "a.png", size: 3, uploadId: null, partSize: null, now: Date.now() });
      state.storage.sql.exec("INSERT INTO presence_pending (user_id, left_ts, due_ts) VALUES (?, ?, ?)", userId, Date.now(), Date.now() + 3_600_000);
    });

  it("renames their uploads and drops their pending presence in the room's erasure step", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const room = uniqueRoom("erase-media");
    expect((await owner.createRoom(room)).status).toBe(201);
    expect((await dave.join(room)).status).toBe(200);
    await seed(room, dave.userId);
    await seed(room, owner.userId);

    expect((await erase(dave.userId)).body).toMatchObject({ state: "done" });
    expect(await roomCount(room, "SELECT count(*) AS n FROM media WHERE uploader = ?", dave.userId)).toBe(0);
    // The upload itself stays (the room's media cleanup decides its fate), under the pseudonym.
    expect(await roomCount(room, "SELECT count(*) AS n FROM media WHERE uploader <> ?", owner.userId)).toBe(1);
    expect(await roomCount(room, "SELECT count(*) AS n FROM presence_pending WHERE user_id = ?", dave.userId)).toBe(0);
    // Nobody else's rows move.
    expect(await roomCount(room, "SELECT count(*) AS n FROM media WHERE uploader = ?", owner.userId)).toBe(1);
    expect(await roomCount(room, "SELECT count(*) AS n FROM presence_pending WHERE user_id = ?", owner.userId)).toBe(1);
  });

  it("keeps a held user's id on their uploads, which the purge looks holds up by", async () => {
    const owner = await newUser("owner");
    const dave = await newUser("dave");
    const room = uniqueRoom("erase-media-held");
    expect((await owner.createRoom(room)).status).toBe(201);
    expect((await dave.join(room)).status).toBe(200);
    await seed(room, dave.userId);
    await placeHold(env.DB, "user", dave.userId, "litigation", "root");

    expect((await erase(dave.userId)).body).toMatchObject({ state: "done" });
    expect(await roomCount(room, "SELECT count(*) AS n FROM media WHERE uploader = ?", dave.userId)).toBe(1);
    expect(await roomCount(room, "SELECT count(*) AS n FROM presence_pending WHERE user_id = ?", dave.userId)).toBe(0);
  });
});
