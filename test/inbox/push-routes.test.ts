/**
 * Push registration, mutes, and which members a new message queues a push
 * for (the delivery itself is tested end to end in test/e2e/push.test.ts).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isMuted, subscriptionsOf } from "../../src/db/push";
import { pushJobsFor } from "../../src/room/inbox-delivery";
import type { Room } from "../../src/room/room";
import { connect, uniqueRoom, uniqueUser, user } from "../helpers";

/** A browser's keys (an uncompressed P-256 point and 16 bytes), as registration requires. */
const KEYS = {
  p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
  auth: "tBHItJI5svbpez7KI4CCXg",
};
const sub = (endpoint: string) => ({ endpoint, expirationTime: null, keys: KEYS });

describe("push registration and mutes", () => {
  it("registers and unregisters a subscription; refuses a non-URL endpoint", async () => {
    const bob = await user(uniqueUser("bob"));
    const endpoint = `https://fcm.googleapis.com/fcm/send/${bob.userId}`;
    expect((await bob.call("POST", "/api/me/push-subscriptions", sub(endpoint))).status).toBe(200);
    expect(await subscriptionsOf(env.DB, bob.userId)).toEqual([{ endpoint, p256dh: KEYS.p256dh, auth: KEYS.auth }]);
    expect((await bob.call("POST", "/api/me/push-subscriptions", sub("not a url"))).status).toBe(400);
    expect((await bob.call("DELETE", "/api/me/push-subscriptions", { endpoint })).body).toEqual({ removed: true });
    expect(await subscriptionsOf(env.DB, bob.userId)).toEqual([]);
  });

  it("mutes a room for members only, until a time or until unmuted", async () => {
    const alice = await user(uniqueUser("alice"));
    const mallory = await user(uniqueUser("mallory"));
    const room = uniqueRoom("mute");
    await alice.createRoom(room);
    expect((await mallory.call("PUT", `/api/rooms/${room}/mute`, {})).status).toBe(403);
    expect((await alice.call("PUT", `/api/rooms/${room}/mute`, {})).body).toEqual({ roomId: room, muted: true, until: null });
    expect(await isMuted(env.DB, alice.userId, room)).toBe(true);
    const until = new Date(Date.now() + 60_000).toISOString();
    expect((await alice.call("PUT", `/api/rooms/${room}/mute`, { until })).body).toEqual({ roomId: room, muted: true, until });
    expect(await isMuted(env.DB, alice.userId, room, Date.now() + 120_000)).toBe(false);
    await alice.call("DELETE", `/api/rooms/${room}/mute`);
    expect(await isMuted(env.DB, alice.userId, room)).toBe(false);
  });

  it("queues a push for members with no live socket in the room, never for the sender or deleted messages", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const carol = await user(uniqueUser("carol"));
    const room = uniqueRoom("jobs");
    await alice.createRoom(room);
    await bob.join(room);
    await carol.join(room);
    const carolSocket = await connect(carol.token, room);
    const sent = (await alice.send(room, "ping everyone")).body;
    const jobs = await runInDurableObject(env.ROOMS.getByName(room), (r: Room) =>
      pushJobsFor(r.core, (u) => r.sockets.devicesOf(u), { op: "push", roomId: room, seq: sent.seq }),
    );
    expect(jobs).toEqual([
      { userId: bob.userId, payload: { type: "message", roomId: room, seq: sent.seq, messageId: sent.id, sender: alice.userId, preview: "ping everyone", ts: sent.ts } },
    ]);
    await alice.call("DELETE", `/api/rooms/${room}/messages/${sent.id}`);
    const none = await runInDurableObject(env.ROOMS.getByName(room), (r: Room) =>
      pushJobsFor(r.core, (u) => r.sockets.devicesOf(u), { op: "push", roomId: room, seq: sent.seq }),
    );
    expect(none).toEqual([]);
    carolSocket.close();
  });
});
