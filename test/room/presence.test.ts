/**
 * Presence (DESIGN.md promise 7): online across devices, offline with a
 * last-seen time only after a grace period, no announcement for a flap, and
 * hidden presence.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configOf } from "../../src/kernel/config";
import { connect, eventually, framesOf, uniqueRoom, uniqueUser, user } from "../helpers";
import { manualClockOn } from "./helpers/clock";

async function roomOf(...names: string[]) {
  const users = await Promise.all(names.map((n) => user(uniqueUser(n))));
  const roomId = uniqueRoom("presence");
  expect((await users[0]!.createRoom(roomId)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(roomId)).status).toBe(200);
  return { users, roomId };
}

const presenceOf = async (viewer: Awaited<ReturnType<typeof user>>, roomId: string, userId: string) => {
  const res = await viewer.call<{ presence: Array<{ userId: string; online: boolean; devices: number; lastSeen: string | null }> }>(
    "GET",
    `/api/rooms/${roomId}/presence`,
  );
  expect(res.status).toBe(200);
  return res.body.presence.find((p) => p.userId === userId)!;
};

/** The grace period the room runs with (PRESENCE_GRACE_MS); tests cross it by moving the room's clock. */
const graceMs = () => configOf(env).room.presenceGraceMs;

describe("presence", () => {
  it("is online while any device is connected, and goes offline with a last-seen time only after the grace period", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    const clock = await manualClockOn(env.ROOMS.getByName(roomId));
    const watcher = await connect(bob.token, roomId);
    const phone = await connect(alice.token, roomId);
    await watcher.waitFor((f) => f.type === "presence" && f.userId === alice.userId && f.online);
    const laptop = await connect(alice.token, roomId);
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 2, lastSeen: null });

    phone.close();
    await phone.waitClosed();
    // The room counts the close once it has handled it, which may come after the client saw it.
    const one = await eventually(async () => {
      const p = await presenceOf(bob, roomId, alice.userId);
      return p.devices === 1 ? p : undefined;
    }, 5000, "the phone to be counted out");
    expect(one).toMatchObject({ online: true, devices: 1 });
    laptop.close();
    await laptop.waitClosed();
    // Within the grace period: still online, nothing announced.
    const none = await eventually(async () => {
      const p = await presenceOf(bob, roomId, alice.userId);
      return p.devices === 0 ? p : undefined;
    }, 5000, "the laptop to be counted out");
    expect(none).toMatchObject({ online: true, devices: 0 });
    // Just short of the grace period, the alarm still announces nothing.
    clock.advance(graceMs() - 1);
    await runDurableObjectAlarm(env.ROOMS.getByName(roomId));
    await watcher.sync();
    expect(framesOf(watcher, "presence").filter((f) => f.userId === alice.userId && !f.online)).toEqual([]);
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 0 });
    clock.advance(1);
    await runDurableObjectAlarm(env.ROOMS.getByName(roomId));
    const offline = await watcher.waitFor((f) => f.type === "presence" && f.userId === alice.userId && !f.online);
    expect(offline).toMatchObject({ online: false, devices: 0 });
    expect(offline.type === "presence" && offline.lastSeen).toBeTruthy();
    const seen = await presenceOf(bob, roomId, alice.userId);
    expect(seen).toMatchObject({ online: false, devices: 0 });
    expect(Date.parse(seen.lastSeen!)).toBeGreaterThan(Date.now() - 10_000);
    watcher.close();
  });

  it("announces nothing when a device reconnects within the grace period (a flap)", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    // The room's clock stands still: however slow the reconnect, it is within the grace period.
    await manualClockOn(env.ROOMS.getByName(roomId));
    const watcher = await connect(bob.token, roomId);
    const first = await connect(alice.token, roomId);
    await watcher.waitFor((f) => f.type === "presence" && f.userId === alice.userId && f.online);
    first.close();
    await first.waitClosed();
    const again = await connect(alice.token, roomId);
    await watcher.sync();
    const announcements = framesOf(watcher, "presence").filter((f) => f.userId === alice.userId);
    expect(announcements).toHaveLength(1);
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 1 });
    again.close();
    watcher.close();
  });

  it("shows a hidden user as offline without a last-seen time, and never announces them", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    expect((await alice.call("PATCH", "/api/me/settings", { presenceVisibility: "nobody" })).status).toBe(200);
    const watcher = await connect(bob.token, roomId);
    const socket = await connect(alice.token, roomId);
    await watcher.sync();
    expect(framesOf(watcher, "presence").filter((f) => f.userId === alice.userId)).toEqual([]);
    expect(await presenceOf(bob, roomId, alice.userId)).toEqual({ userId: alice.userId, online: false, devices: 0, lastSeen: null });
    // They still see themselves.
    expect(await presenceOf(alice, roomId, alice.userId)).toMatchObject({ online: true, devices: 1 });
    socket.close();
    watcher.close();
  });
});
