/**
 * Presence, typing and read receipts (DESIGN.md promises 7 to 9): presence
 * across devices with a grace period and a last-seen time, hidden presence,
 * ephemeral typing, forward-only receipts shared across devices, private
 * receipts.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { connect, eventually, framesOf, sleep, uniqueRoom, uniqueUser, user } from "../helpers";

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

/** Lowers the grace period on the running room. */
async function setGrace(roomId: string, ms: number) {
  await runInDurableObject(env.ROOMS.getByName(roomId), (instance: Room) => {
    (instance.presence as unknown as { graceMs: number }).graceMs = ms;
  });
}

describe("presence", () => {
  it("is online while any device is connected, and goes offline with a last-seen time only after the grace period", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    const watcher = await connect(bob.token, roomId);
    const phone = await connect(alice.token, roomId);
    await watcher.waitFor((f) => f.type === "presence" && f.userId === alice.userId && f.online);
    const laptop = await connect(alice.token, roomId);
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 2, lastSeen: null });

    await setGrace(roomId, 200);
    phone.close();
    await phone.waitClosed();
    await sleep(50);
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 1 });
    laptop.close();
    await laptop.waitClosed();
    // Within the grace period: still online, nothing announced.
    expect(await presenceOf(bob, roomId, alice.userId)).toMatchObject({ online: true, devices: 0 });
    await sleep(250);
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
    const watcher = await connect(bob.token, roomId);
    const first = await connect(alice.token, roomId);
    await watcher.waitFor((f) => f.type === "presence" && f.userId === alice.userId && f.online);
    await setGrace(roomId, 60_000);
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

describe("typing", () => {
  it("reaches other members with a 10 s expiry, not the typer, is never stored, and is rate limited per user", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    const typer = await connect(alice.token, roomId);
    const watcher = await connect(bob.token, roomId);
    const before = (await bob.history(roomId)).body.headSeq;
    typer.send({ type: "typing" });
    const notice = await watcher.waitFor((f) => f.type === "typing");
    expect(notice).toMatchObject({ type: "typing", roomId, userId: alice.userId });
    const ttl = notice.type === "typing" ? Date.parse(notice.expiresTs) - Date.now() : 0;
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    // A burst within 2 s is absorbed.
    for (let i = 0; i < 5; i++) typer.send({ type: "typing" });
    expect((await alice.call("POST", `/api/rooms/${roomId}/typing`)).status).toBe(200);
    await watcher.sync();
    await typer.sync();
    expect(framesOf(watcher, "typing")).toHaveLength(1);
    expect(framesOf(typer, "typing")).toHaveLength(0);
    expect((await bob.history(roomId)).body.headSeq).toBe(before);
    typer.close();
    watcher.close();
  });

  it("is refused for non-members", async () => {
    const { roomId } = await roomOf("alice");
    const mallory = await user(uniqueUser("mallory"));
    const res = await mallory.call("POST", `/api/rooms/${roomId}/typing`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_member");
  });
});

describe("read receipts", () => {
  it("move forward only, reach the other members and the reader's other devices, and batch into one write", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await alice.send(roomId, `m${i}`)).body.seq);
    const bobPhone = await connect(bob.token, roomId);
    const bobLaptop = await connect(bob.token, roomId);
    const aliceSocket = await connect(alice.token, roomId);
    // A fast reader: one markRead per message.
    for (const seq of seqs) bobPhone.send({ type: "read", seq });
    await bobPhone.sync();
    await runDurableObjectAlarm(env.ROOMS.getByName(roomId));
    const last = seqs[seqs.length - 1]!;
    await aliceSocket.waitFor((f) => f.type === "receipt" && f.userId === bob.userId && f.seq === last);
    await bobLaptop.waitFor((f) => f.type === "receipt" && f.userId === bob.userId && f.seq === last);
    // Batched: the other members hear the final position, not one receipt per message.
    expect(framesOf(aliceSocket, "receipt").filter((f) => f.userId === bob.userId).length).toBeLessThan(seqs.length);

    // Backwards is accepted and changes nothing.
    const back = await bob.call("POST", `/api/rooms/${roomId}/read`, { seq: seqs[0] });
    expect(back.status).toBe(200);
    expect(back.body.seq).toBe(last);
    const receipts = await alice.call("GET", `/api/rooms/${roomId}/receipts`);
    expect(receipts.body.receipts).toContainEqual({ userId: bob.userId, seq: last });
    bobPhone.close();
    bobLaptop.close();
    aliceSocket.close();
  });

  it("of a private reader are shown to nobody but their own devices", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    expect((await bob.call("PATCH", "/api/me/settings", { readReceiptVisibility: "nobody" })).status).toBe(200);
    const seq = (await alice.send(roomId, "secret read")).body.seq;
    const aliceSocket = await connect(alice.token, roomId);
    const bobOther = await connect(bob.token, roomId);
    expect((await bob.call("POST", `/api/rooms/${roomId}/read`, { seq })).status).toBe(200);
    await runDurableObjectAlarm(env.ROOMS.getByName(roomId));
    await bobOther.waitFor((f) => f.type === "receipt" && f.userId === bob.userId && f.seq === seq);
    await aliceSocket.sync();
    expect(framesOf(aliceSocket, "receipt").filter((f) => f.userId === bob.userId)).toEqual([]);
    const seenByAlice = (await alice.call("GET", `/api/rooms/${roomId}/receipts`)).body.receipts;
    expect(seenByAlice.find((r: { userId: string }) => r.userId === bob.userId)).toBeUndefined();
    const seenByBob = (await bob.call("GET", `/api/rooms/${roomId}/receipts`)).body.receipts;
    expect(seenByBob).toContainEqual({ userId: bob.userId, seq });
    aliceSocket.close();
    bobOther.close();
    await eventually(async () => true);
  });
});
