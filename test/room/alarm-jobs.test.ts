/**
 * The room's alarm runs its jobs in order, and one that throws does not stop
 * the others (src/room/scheduler.ts): a purge that fails leaves the outbox
 * flush behind it running, and the alarm set to try the purge again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { uniqueRoom, uniqueUser, user } from "../helpers";

describe("alarm jobs", () => {
  it("a purge job that throws does not stall the outbox flush", async () => {
    const alice = await user(uniqueUser("jobs-alice"));
    const roomId = uniqueRoom("jobs");
    expect((await alice.createRoom(roomId)).status).toBe(201);
    const sent = await alice.send(roomId, "to be deleted");
    expect(sent.status).toBe(201);
    const stub = env.ROOMS.getByName(roomId);
    // Broken before the deletion queues anything: whether the alarm then fires on its own or
    // is run below, every purge throws.
    await runInDurableObject(stub, (room: Room) => {
      room.core.purgeQueue.destroyUnheld = () => {
        throw new Error("purge broke");
      };
    });
    expect((await alice.call("DELETE", `/api/rooms/${roomId}/messages/${sent.body.id}`)).status).toBe(200);
    expect(await runInDurableObject(stub, (room: Room) => room.core.purgeQueue.size)).toBe(1);

    // Run the alarm until the outbox is empty: with a purge that stalled the alarm, it never would be.
    for (let run = 0; await runInDurableObject(stub, (room: Room) => room.core.outbox.pending > 0); run++) {
      expect(run).toBeLessThan(5);
      await runInDurableObject(stub, (room: Room) => room.onAlarm());
    }

    const after = await runInDurableObject(stub, async (room: Room, state) => ({
      pending: room.core.outbox.pending,
      queued: room.core.purgeQueue.size,
      alarm: await state.storage.getAlarm(),
    }));
    // The outbox ran although the purge before it threw; the purge's work is still there, to be tried again.
    expect(after.pending).toBe(0);
    expect(after.queued).toBe(1);
    expect(after.alarm).not.toBeNull();
    const indexed = await env.DB.prepare("SELECT last_seq FROM rooms WHERE room_id = ?").bind(roomId).first<{ last_seq: number }>();
    expect(indexed?.last_seq).toBeGreaterThanOrEqual(sent.body.seq);
  });
});
