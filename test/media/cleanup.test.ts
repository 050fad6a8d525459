import { describe, expect, it } from "vitest";
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Room } from "../../src/room/room";
import { uniqueRoom, user } from "../helpers";
import { MiB, png, put, roomObjects, upload } from "./fixtures";

const DAY = 24 * 60 * 60 * 1000;

/** Moves every media row of a room back in time, as if uploaded `ms` ago. */
async function age(roomId: string, ms: number) {
  await runInDurableObject(env.ROOMS.getByName(roomId), (_room: Room, state) => {
    state.storage.sql.exec("UPDATE media SET created_ts = created_ts - ?", ms);
  });
}

async function mediaRows(roomId: string) {
  return runInDurableObject(env.ROOMS.getByName(roomId), (_room: Room, state) =>
    state.storage.sql.exec<{ media_id: string; state: string }>("SELECT media_id, state FROM media ORDER BY created_ts").toArray(),
  );
}

describe("media cleanup", () => {
  it("deletes uploads never attached within a day, and aborts stale multipart uploads, keeping attached media", async () => {
    const alice = await user("clean-orphan");
    const room = uniqueRoom("clean");
    await alice.createRoom(room);
    const kept = await upload(alice.token, room, png(1000), { filename: "kept.png" });
    await alice.call("POST", `/api/rooms/${room}/messages`, { content: "keep", attachments: [kept.body.mediaId] });
    const orphan = await upload(alice.token, room, png(1000), { filename: "orphan.png" });
    const mp = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "half.png", size: 5 * MiB + 10 });
    expect((await put(alice.token, `/api/rooms/${room}/media/uploads/${mp.body.uploadId}/parts/1`, png(5 * MiB))).status).toBe(200);
    expect(await roomObjects(room)).toHaveLength(2);

    // Younger than a day: the alarm leaves everything alone.
    await age(room, DAY - 60_000);
    await runDurableObjectAlarm(env.ROOMS.getByName(room));
    expect(await mediaRows(room)).toHaveLength(3);

    await age(room, 120_000);
    expect(await runDurableObjectAlarm(env.ROOMS.getByName(room))).toBe(true);
    expect(await mediaRows(room)).toEqual([{ media_id: kept.body.mediaId, state: "attached" }]);
    expect(await roomObjects(room)).toEqual([expect.stringMatching(new RegExp(`/${kept.body.mediaId}$`))]);
    // The stale multipart upload is gone: its id no longer takes parts or completes.
    expect((await alice.call("GET", `/api/rooms/${room}/media/uploads/${mp.body.uploadId}`)).status).toBe(404);
    expect((await alice.call("POST", `/api/rooms/${room}/messages`, { content: "late", attachments: [orphan.body.mediaId] })).body.error.code).toBe("invalid_request");
  });

  it("deletes the media of a deleted message", async () => {
    const alice = await user("clean-msg");
    const room = uniqueRoom("clean");
    await alice.createRoom(room);
    const a = await upload(alice.token, room, png(1000), { filename: "a.png" });
    const b = await upload(alice.token, room, png(1000), { filename: "b.png" });
    const c = await upload(alice.token, room, png(1000), { filename: "c.png" });
    const first = await alice.call("POST", `/api/rooms/${room}/messages`, { content: "two", attachments: [a.body.mediaId, b.body.mediaId] });
    await alice.call("POST", `/api/rooms/${room}/messages`, { content: "one", attachments: [c.body.mediaId] });
    expect(await roomObjects(room)).toHaveLength(3);

    // Deleting the message takes its media out of reach at once; the room's purge (the alarm,
    // after checking legal holds) then deletes the objects and their rows.
    expect((await alice.call("DELETE", `/api/rooms/${room}/messages/${first.body.id}`)).status).toBe(200);
    await runInDurableObject(env.ROOMS.getByName(room), (r: Room) => r.onAlarm());
    expect(await roomObjects(room)).toEqual([expect.stringMatching(new RegExp(`/${c.body.mediaId}$`))]);
    expect((await mediaRows(room)).map((r) => r.media_id)).toEqual([c.body.mediaId]);
    // Idempotent: another run finds nothing more to delete.
    await runInDurableObject(env.ROOMS.getByName(room), (r: Room) => r.onAlarm());
    expect(await roomObjects(room)).toEqual([expect.stringMatching(new RegExp(`/${c.body.mediaId}$`))]);
    expect((await mediaRows(room)).map((r) => r.media_id)).toEqual([c.body.mediaId]);
  });

  it("deletes every object of a purged room, unfinished uploads and unrecorded objects included", async () => {
    const alice = await user("clean-room");
    const room = uniqueRoom("clean");
    await alice.createRoom(room);
    const a = await upload(alice.token, room, png(1000), { filename: "a.png" });
    await alice.call("POST", `/api/rooms/${room}/messages`, { content: "x", attachments: [a.body.mediaId] });
    await upload(alice.token, room, png(1000), { filename: "pending.png" });
    const mp = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "half.png", size: 5 * MiB + 10 });
    await put(alice.token, `/api/rooms/${room}/media/uploads/${mp.body.uploadId}/parts/1`, png(5 * MiB));
    // An object under the room's prefix that no row names (say, a row lost to a crash).
    const prefix = `rooms/${env.ROOMS.idFromName(room).toString()}/`;
    await env.MEDIA.put(`${prefix}med_stray00000000000000000`, "stray");
    expect(await roomObjects(room)).toHaveLength(3);

    await env.ROOMS.getByName(room).purgeMedia();
    expect(await roomObjects(room)).toEqual([]);
    expect(await mediaRows(room)).toEqual([]);
  });

  it("retries deletions R2 refused, from the alarm", async () => {
    const alice = await user("clean-retry");
    const room = uniqueRoom("clean");
    await alice.createRoom(room);
    const a = await upload(alice.token, room, png(1000), { filename: "a.png" });
    const sent = await alice.call("POST", `/api/rooms/${room}/messages`, { content: "x", attachments: [a.body.mediaId] });
    // Mark as a deletion and its purge do, as if R2 had failed before deleting.
    await runInDurableObject(env.ROOMS.getByName(room), (r: Room) => {
      r.core.media.markMessageRemoved(sent.body.seq);
      r.core.media.releaseRemoved(new Set());
    });
    expect(await roomObjects(room)).toHaveLength(1);
    await runInDurableObject(env.ROOMS.getByName(room), async (r: Room) => {
      await r.onAlarm();
    });
    expect(await roomObjects(room)).toEqual([]);
    expect(await mediaRows(room)).toEqual([]);
  });
});
