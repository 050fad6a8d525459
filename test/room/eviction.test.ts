/**
 * Eviction: the room object may be dropped between messages while its sockets
 * stay open (hibernation). Each socket's facts live in its attachment, so a
 * rebuilt room still delivers every event once, in order, with seqs that go
 * on from where they were. When eviction closes the sockets instead, clients
 * resume from their last position and get what they missed.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, user } from "../helpers";
import {
  allMessages,
  deliveryFrames,
  expectSeqs,
  messagesOf,
  roomPosition,
  roomStub,
  roomWithMessages,
  sendMany,
  seqsOf,
  waitForSeq,
} from "./delivery-helpers";

describe("eviction with hibernated sockets", () => {
  it("a live socket receives every message once, in order, before and after the room is evicted", async () => {
    const { alice, roomId, head } = await roomWithMessages(3, "evict");
    const bob = await user("bob");
    await bob.join(roomId);
    const a = await connect(alice.token, roomId);
    const b = await connect(bob.token, roomId);
    const start = head + 1; // bob's join

    const before = await sendMany(alice, roomId, 4, "before");
    await waitForSeq(a, start + 4);
    const stub = roomStub(roomId);
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { marker?: string }).marker = "old instance";
    });
    await evictDurableObject(stub);
    const after = await sendMany(bob, roomId, 4, "after");
    // Seqs go on from where they were: the rebuilt room read its head back.
    expect(after.map((m) => m.seq)).toEqual([start + 5, start + 6, start + 7, start + 8]);

    for (const socket of [a, b]) {
      await waitForSeq(socket, start + 8);
      expectSeqs(seqsOf(socket), start + 1, start + 8);
      expect(messagesOf(socket)).toEqual([...before, ...after]);
      expect(socket.closed).toBeNull();
    }
    // It really was a new instance that delivered them.
    expect(await runInDurableObject(stub, (instance) => (instance as unknown as { marker?: string }).marker)).toBeUndefined();
    const stored = await allMessages(alice, roomId);
    expect(stored.slice(-8)).toEqual([...before, ...after]);
    a.close();
    b.close();
  });

  it("stays gap-free across repeated evictions between messages", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "evict");
    const socket = await connect(alice.token, roomId);
    const sent = [];
    for (let round = 0; round < 5; round++) {
      sent.push(...(await sendMany(alice, roomId, 3, `round${round}`)));
      await evictDurableObject(roomStub(roomId));
    }
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => head + 1 + i));
    await waitForSeq(socket, head + 15);
    expectSeqs(seqsOf(socket), head + 1, head + 15);
    expect(messagesOf(socket)).toEqual(sent);
    expect((await allMessages(alice, roomId)).slice(-15)).toEqual(sent);
    socket.close();
  });

  it("a hibernated socket's own send frame wakes the room, which still knows who sent it", async () => {
    const { alice, roomId, head } = await roomWithMessages(2, "evict");
    const bob = await user("bob");
    await bob.join(roomId);
    const a = await connect(alice.token, roomId);
    const b = await connect(bob.token, roomId);
    await evictDurableObject(roomStub(roomId));

    a.send({ type: "send", reqId: "after-evict", content: "from a hibernated socket", clientId: "evict-c1" });
    const ack = await a.waitFor((f): f is Extract<typeof f, { type: "ack" }> => f.type === "ack");
    expect(ack).toMatchObject({ reqId: "after-evict", message: { sender: "alice", seq: head + 2, clientId: "evict-c1" } });
    for (const socket of [a, b]) {
      await waitForSeq(socket, head + 2);
      expectSeqs(seqsOf(socket), head + 2, head + 2);
      expect(messagesOf(socket)).toEqual([ack.message]);
    }
    a.close();
    b.close();
  });

  it("a socket that connected but had not said hello before the eviction can still resume after it", async () => {
    const { alice, roomId, epoch, head, sent } = await roomWithMessages(5, "evict");
    const socket = await connect(alice.token, roomId, { hello: false });
    await evictDurableObject(roomStub(roomId));
    const more = await sendMany(alice, roomId, 2, "meanwhile");
    // Not live yet: nothing is pushed to it.
    expect(deliveryFrames(socket)).toEqual([]);
    socket.send({ type: "hello", protocol: 1, after: { epoch, seq: head - 2 } });
    await socket.waitFor((f) => f.type === "live");
    expectSeqs(seqsOf(socket), head - 1, head + 2);
    expect(messagesOf(socket)).toEqual([...sent.slice(-2), ...more]);
    socket.close();
  });
});

describe("eviction that closes sockets", () => {
  it("closes the socket; resuming from the last seen position replays exactly what was missed, then live", async () => {
    const { alice, roomId, epoch, head } = await roomWithMessages(3, "evict");
    const socket = await connect(alice.token, roomId);
    const seen = await sendMany(alice, roomId, 3, "seen");
    await waitForSeq(socket, head + 3);

    await evictDurableObject(roomStub(roomId), { webSockets: "close" });
    await socket.waitClosed(3000);
    expect(socket.closed).not.toBeNull();

    const missed = await sendMany(alice, roomId, 4, "missed");
    const lastSeq = seqsOf(socket).at(-1)!;
    expect(lastSeq).toBe(head + 3);
    expect(messagesOf(socket)).toEqual(seen);

    const resumed = await connect(alice.token, roomId, { after: { epoch, seq: lastSeq } });
    const live = await resumed.waitFor((f) => f.type === "live");
    expect(live).toMatchObject({ epoch, seq: head + 7 });
    expectSeqs(seqsOf(resumed), head + 4, head + 7);
    expect(messagesOf(resumed)).toEqual(missed);

    const next = await sendMany(alice, roomId, 1, "next");
    await waitForSeq(resumed, head + 8);
    expectSeqs(seqsOf(resumed), head + 4, head + 8);
    expect(messagesOf(resumed).at(-1)).toEqual(next[0]);
    expect((await roomPosition(alice, roomId)).head).toBe(head + 8);
    resumed.close();
  });
});
