/**
 * The send path's pipeline: a socket's sends start on arrival, sends of one
 * user that come while the room's call to their UserLimits object is out go
 * together as one call, and the cross-room budget and the clientId dedupe stay
 * exact across those awaits.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import { TokenBuckets } from "../../src/kernel/token-bucket";
import type { Room } from "../../src/room/room";
import type { UserLimits } from "../../src/user/limits";
import { connect, eventually, uniqueRoom, uniqueUser, user } from "../helpers";
import { gatedUserLimits } from "./helpers/gated-limits";
import { storeNow } from "./store-now";

async function ownRoom() {
  const owner = await user(uniqueUser("sending"));
  const room = uniqueRoom("sending");
  expect((await owner.createRoom(room)).status).toBe(201);
  return { owner, room };
}

const answers = (frames: ServerFrame[]) =>
  frames.filter((f): f is Extract<ServerFrame, { type: "ack" | "error" }> => f.type === "ack" || f.type === "error").map((f) => `${f.type}:${f.reqId}`);

describe("a socket's sends", () => {
  it("start on arrival: five sends behind a slow user object take two of its round trips, are answered in order, and cost two calls", async () => {
    const { owner, room } = await ownRoom();
    // Each call to the user object takes 300 ms, counted from when all five frames are in.
    const limits = await gatedUserLimits(room, { latencyMs: 300 });
    const socket = await connect(owner.token, room);
    const before = limits.received.length;
    for (let i = 0; i < 5; i++) socket.send({ type: "send", reqId: `s${i}`, content: `pipelined ${i}` });
    await eventually(async () => (limits.received.length >= before + 5 ? true : undefined), 5000, "the room to take in the five sends");
    const started = Date.now();
    limits.open();
    await socket.waitFor((f) => f.type === "ack" && f.reqId === "s4");
    const elapsed = Date.now() - started;
    expect(answers(socket.frames)).toEqual(["ack:s0", "ack:s1", "ack:s2", "ack:s3", "ack:s4"]);
    // One call for the first send, one for the four that came while it was out.
    expect(limits.calls).toEqual([1, 4]);
    expect(elapsed).toBeLessThan(1_200);
    const seqs = socket.frames.flatMap((f) => (f.type === "ack" ? [f.message.seq] : []));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    socket.close();
  });

  it("keeps the cross-room budget exact: of five sends at once with three tokens left, the first three are stored and the last two refused", async () => {
    const { owner, room } = await ownRoom();
    await runInDurableObject(env.USER_LIMITS.getByName(owner.userId), (instance: UserLimits) => {
      instance.sendBucket = TokenBuckets.perMinute(3);
    });
    const socket = await connect(owner.token, room);
    for (let i = 0; i < 5; i++) socket.send({ type: "send", reqId: `b${i}`, content: `budget ${i}` });
    await socket.waitFor((f) => f.type === "error" && f.reqId === "b4");
    expect(answers(socket.frames)).toEqual(["ack:b0", "ack:b1", "ack:b2", "error:b3", "error:b4"]);
    const refused = socket.frames.find((f) => f.type === "error" && f.reqId === "b3");
    expect(refused?.type === "error" && refused.error.code).toBe("rate_limited");
    const history = await owner.history(room);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(["budget 0", "budget 1", "budget 2"]);
    socket.close();
  });

  it("stores a clientId once when the same send comes twice before the first is stored", async () => {
    const { owner, room } = await ownRoom();
    const limits = await gatedUserLimits(room);
    const socket = await connect(owner.token, room);
    const before = limits.received.length;
    socket.send({ type: "send", reqId: "first", content: "once", clientId: "same-1" });
    socket.send({ type: "send", reqId: "again", content: "once", clientId: "same-1" });
    // Both are in before the first is stored: the verdict it waits for has not come yet.
    await eventually(async () => (limits.received.length >= before + 2 ? true : undefined), 5000, "the room to take in both sends");
    limits.open();
    await socket.waitFor((f) => f.type === "ack" && f.reqId === "again");
    const acks = socket.frames.flatMap((f) => (f.type === "ack" ? [f.message.id] : []));
    expect(acks).toHaveLength(2);
    expect(acks[0]).toBe(acks[1]);
    const history = await owner.history(room);
    expect(history.body.messages).toHaveLength(1);
    socket.close();
  });
});

describe("the clientId re-check after an await", () => {
  it("answers from memory for recent sends and from storage for older ones", async () => {
    const { owner, room } = await ownRoom();
    await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      const log = instance.core.log;
      const start = log.head;
      for (let i = 0; i < 600; i++) storeNow(instance.core, owner.userId, { content: `m${i}`, clientId: `c${i}` });
      // Recent: found when stored after the given seq, not when stored before it.
      expect(log.findByClientIdSince(owner.userId, "c599", log.head - 1)?.content).toBe("m599");
      expect(log.findByClientIdSince(owner.userId, "c599", log.head)).toBeNull();
      expect(log.findByClientIdSince(owner.userId, "c598", log.head - 1)).toBeNull();
      // Older than memory keeps: storage answers, whenever it was stored.
      expect(log.findByClientIdSince(owner.userId, "c0", start)?.content).toBe("m0");
      expect(log.findByClientIdSince("someone-else", "c0", start)).toBeNull();
    });
  });
});
