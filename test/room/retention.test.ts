/**
 * Message retention: a room's setting (or the deployment default) trims
 * messages older than it to tombstones, in batches, from the room's alarm;
 * the events below the trim point are dropped, and a resume that reaches into
 * them gets the explicit `too_far_behind` answer.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { api, connect, tokenFor, uniqueRoom, uniqueUser, user } from "../helpers";
import { trimExpired } from "../../src/room/retention";

const DAY = 24 * 60 * 60 * 1000;
const stubOf = (room: string) => env.ROOMS.getByName(room);

/** Moves every event up to `seq` back in time by `days` (ts stays non-decreasing with seq). */
const age = (room: string, seq: number, days: number) =>
  runInDurableObject(stubOf(room), (_r: Room, state) => {
    state.storage.sql.exec("UPDATE events SET ts = ts - ? WHERE seq <= ?", days * DAY, seq);
  });

const rowsOf = (room: string) =>
  runInDurableObject(stubOf(room), (r: Room, state) => ({
    seqs: state.storage.sql.exec<{ seq: number }>("SELECT seq FROM events ORDER BY seq").toArray().map((x) => x.seq),
    withOldText: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE content LIKE 'old%'").one().n,
    purgeQueue: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM purge_queue").one().n,
    trimmedThrough: r.core.trimmedThrough,
  }));

/** alice (owner) and bob: events 1-2 are their joins, then `old` old messages and `recent` recent ones. */
async function roomWithHistory(old: number, recent: number) {
  const alice = await user(uniqueUser("alice"));
  const bob = await user(uniqueUser("bob"));
  const room = uniqueRoom("retention");
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  for (let i = 0; i < old; i++) expect((await alice.send(room, `old ${i}`)).status).toBe(201);
  for (let i = 0; i < recent; i++) expect((await bob.send(room, `new ${i}`)).status).toBe(201);
  await age(room, 2 + old, 10);
  return { alice, bob, room };
}

describe("message retention", () => {
  it("is set by owners and admins, read by members, and follows the deployment default when null", async () => {
    const { alice, bob, room } = await roomWithHistory(0, 0);
    expect((await bob.call("GET", `/api/rooms/${room}/settings`)).body).toEqual({ roomId: room, retentionDays: null, effectiveRetentionDays: null });
    const refused = await bob.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 7 });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect((await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 0 })).status).toBe(400);
    const set = await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 7 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ roomId: room, retentionDays: 7, effectiveRetentionDays: 7 });
    // A deployment admin may, without being a member; null returns to the default.
    await runInDurableObject(stubOf(room), (r: Room) => {
      (r.core.limits as { defaultRetentionDays: number | null }).defaultRetentionDays = 30;
    });
    const admin = await tokenFor(uniqueUser("admin"), true);
    const reset = await api("PATCH", `/api/rooms/${room}/settings`, { token: admin, body: { retentionDays: null } });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ roomId: room, retentionDays: null, effectiveRetentionDays: 30 });
    const outsider = await user(uniqueUser("outsider"));
    expect((await outsider.call("GET", `/api/rooms/${room}/settings`)).status).toBe(403);
  });

  it("trims only messages older than the retention, to tombstones, and drops the older events", async () => {
    const { alice, bob, room } = await roomWithHistory(4, 2);
    expect((await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 7 })).status).toBe(200);
    await runDurableObjectAlarm(stubOf(room));

    const page = await bob.history(room);
    expect(page.status).toBe(200);
    const messages = page.body.messages as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(6);
    for (const m of messages.slice(0, 4)) {
      expect(m).toMatchObject({ deleted: true, expired: true, content: "", sender: alice.userId });
      expect(m.deletedBy).toBeUndefined();
      expect(typeof m.id).toBe("string");
    }
    expect(messages.slice(4).map((m) => m.content)).toEqual(["new 0", "new 1"]);
    expect(messages.slice(4).every((m) => m.deleted === undefined)).toBe(true);

    const rows = await rowsOf(room);
    // The joins (1, 2) are gone; trimmed messages keep their slots (3-6); recent ones are untouched.
    expect(rows.seqs).toEqual([3, 4, 5, 6, 7, 8]);
    expect(rows.trimmedThrough).toBe(6);
    expect(rows.withOldText).toBe(0);
    // Their text went through the purge queue and is destroyed (no hold).
    expect(rows.purgeQueue).toBe(0);
  });

  it("works in batches and never drops the head event", async () => {
    const { room } = await roomWithHistory(5, 0);
    // Everything is old, the head (seq 7) included. One synchronous run, so the alarm cannot step in.
    const runs = await runInDurableObject(stubOf(room), (r: Room) => {
      (r.core.limits as { defaultRetentionDays: number | null }).defaultRetentionDays = 1;
      return [1, 2, 3, 4].map(() => ({ ...trimExpired(r.core, Date.now(), 2), through: r.core.trimmedThrough }));
    });
    // Batch 1: the joins (1, 2), no messages; each full batch asks to come back soon.
    expect(runs.map((r) => r.trimmed)).toEqual([0, 2, 2, 0]);
    expect(runs.map((r) => r.through)).toEqual([2, 4, 6, 6]);
    expect(runs.slice(0, 3).every((r) => r.next !== null)).toBe(true);
    // Nothing left that may expire (the head never is): no alarm asked for.
    expect(runs[3]!.next).toBeNull();
    const rows = await rowsOf(room);
    expect(rows.trimmedThrough).toBe(6);
    expect(rows.seqs).toEqual([3, 4, 5, 6, 7]);
    // The next message still takes the next seq.
    const alice = await runInDurableObject(stubOf(room), (r: Room) => r.core.members.list()[0]!.user_id);
    const sent = await stubOf(room).sendMessage(alice, { content: "after trimming" });
    expect(sent.ok && sent.value.seq).toBe(8);
  });

  it("answers a resume into trimmed history with too_far_behind, and replays one after it", async () => {
    const { alice, room } = await roomWithHistory(3, 2);
    const socket = await connect(alice.token, room);
    const live = socket.frames.find((f) => f.type === "live") as { epoch: string; seq: number };
    socket.close();
    expect((await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 7 })).status).toBe(200);
    await runDurableObjectAlarm(stubOf(room));
    expect((await rowsOf(room)).trimmedThrough).toBe(5);

    const behind = await connect(alice.token, room, { after: { epoch: live.epoch, seq: 2 } });
    const resync = behind.frames.find((f) => f.type === "resync");
    expect(resync).toMatchObject({ type: "resync", reason: "too_far_behind", epoch: live.epoch, seq: live.seq });
    behind.close();

    const after = await connect(alice.token, room, { after: { epoch: live.epoch, seq: 5 } });
    expect(after.frames.some((f) => f.type === "resync")).toBe(false);
    const replayed = after.frames.flatMap((f) => (f.type === "event" ? [f.seq] : []));
    expect(replayed).toEqual([6, 7]);
    after.close();
  });
});

describe("message retention under a legal hold", () => {
  it("trims nothing in a held room until the hold is released", async () => {
    const { alice, room } = await roomWithHistory(2, 1);
    await stubOf(room).setHold("admin", true);
    expect((await alice.call("PATCH", `/api/rooms/${room}/settings`, { retentionDays: 7 })).status).toBe(200);
    await runDurableObjectAlarm(stubOf(room));
    expect((await rowsOf(room)).trimmedThrough).toBe(0);
    expect((await alice.history(room)).body.messages.map((m: { content: string }) => m.content)).toEqual(["old 0", "old 1", "new 0"]);

    await stubOf(room).setHold("admin", false);
    await runDurableObjectAlarm(stubOf(room));
    const rows = await rowsOf(room);
    expect(rows.trimmedThrough).toBe(4);
    expect(rows.withOldText).toBe(0);
  });
});
