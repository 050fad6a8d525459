/**
 * Read receipts (DESIGN.md promise 9): forward only, shared across the
 * reader's devices, batched, and private receipts shown to nobody else.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, eventually, framesOf, uniqueRoom, uniqueUser, user } from "../helpers";

async function roomOf(...names: string[]) {
  const users = await Promise.all(names.map((n) => user(uniqueUser(n))));
  const roomId = uniqueRoom("presence");
  expect((await users[0]!.createRoom(roomId)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(roomId)).status).toBe(200);
  return { users, roomId };
}

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
