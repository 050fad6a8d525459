/**
 * Slow consumers: a socket that does not report `progress` and falls more
 * than SLOW_CONSUMER_LAG (300 in the test config) events behind is closed
 * with 4008 and resumes from its position; sockets that report progress keep
 * receiving everything, and nobody else's delivery is affected.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SocketState } from "../../src/room/connections";
import type { Room } from "../../src/room/room";
import { type TestSocket, connect, user } from "../helpers";
import {
  expectSeqs,
  messagesOf,
  reportProgress,
  roomStub,
  roomWithMessages,
  seqsOf,
  storeMany,
  waitForSeq,
} from "./delivery-helpers";

const LAG = 300;
const BURST = 320;

/** Proves a socket is open and its earlier frames were handled: a JSON ping round trip. */
async function roundTrip(socket: TestSocket, reqId: string) {
  socket.send({ type: "ping", reqId });
  await socket.waitFor((f) => f.type === "pong" && f.reqId === reqId);
}

describe("slow-consumer cut-off", { timeout: 40_000 }, () => {
  it(`during a ${BURST}-message burst, a socket that never reports progress is closed with 4008 while sockets that report progress get all ${BURST}`, async () => {
    const { alice, roomId, epoch, head: created } = await roomWithMessages(0, "slow");
    const bob = await user("bob");
    await bob.join(roomId);
    const head = created + 1;
    const silent = await connect(alice.token, roomId);
    const acking = await connect(alice.token, roomId); // alice's other device
    const bobSocket = await connect(bob.token, roomId);
    reportProgress(acking, 50);
    reportProgress(bobSocket, 50);

    const burst = await storeMany("bob", roomId, BURST, "burst");
    expect(burst.at(-1)!.seq).toBe(head + BURST);

    const closed = await silent.waitClosed(5000);
    expect(closed.code).toBe(4008);
    // It got every event until it was more than LAG behind, in order, then nothing.
    expectSeqs(seqsOf(silent), head + 1, head + LAG);

    for (const socket of [acking, bobSocket]) {
      await waitForSeq(socket, head + BURST, 10_000);
      expectSeqs(seqsOf(socket), head + 1, head + BURST);
      expect(messagesOf(socket)).toEqual(burst);
      expect(socket.closed).toBeNull();
    }

    // The cut-off socket resumes from its last position and catches up by replay.
    const resumed = await connect(alice.token, roomId, { after: { epoch, seq: head + LAG } });
    expect(await resumed.waitFor((f) => f.type === "live")).toMatchObject({ seq: head + BURST });
    expectSeqs(seqsOf(resumed), head + LAG + 1, head + BURST);
    expect(messagesOf(resumed)).toEqual(burst.slice(LAG));
    for (const socket of [acking, bobSocket, resumed]) socket.close();
  });

  it("the cut-off is exact: exactly SLOW_CONSUMER_LAG events behind stays open, one more closes with 4008", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "slow");
    const silent = await connect(alice.token, roomId);
    await storeMany("alice", roomId, LAG, "fill");
    await waitForSeq(silent, head + LAG, 10_000);
    await roundTrip(silent, "still-open");
    expect(silent.closed).toBeNull();

    await storeMany("alice", roomId, 1, "one-more");
    expect((await silent.waitClosed(5000)).code).toBe(4008);
    expectSeqs(seqsOf(silent), head + 1, head + LAG);
  });

  it("a progress frame restores the full allowance: lag is counted from the last reported seq", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "slow");
    const socket = await connect(alice.token, roomId);
    await storeMany("alice", roomId, 200, "a");
    await waitForSeq(socket, head + 200, 10_000);
    socket.send({ type: "progress", seq: head + 200 });
    await roundTrip(socket, "acked");
    // 200 + 300 events since hello, but only 300 since the report.
    await storeMany("alice", roomId, LAG, "b");
    await waitForSeq(socket, head + 200 + LAG, 10_000);
    await roundTrip(socket, "after");
    expect(socket.closed).toBeNull();
    expectSeqs(seqsOf(socket), head + 1, head + 200 + LAG);
    socket.close();
  });

  it("reporting progress beyond head buys no extra allowance", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "slow");
    const socket = await connect(alice.token, roomId);
    socket.send({ type: "progress", seq: head + 1_000_000 });
    await roundTrip(socket, "acked");
    await storeMany("alice", roomId, LAG + 1, "x");
    expect((await socket.waitClosed(5000)).code).toBe(4008);
    expectSeqs(seqsOf(socket), head + 1, head + LAG);
  });

  it("a cut-off socket does not disturb delivery to the room's other sockets", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "slow");
    const silent = await connect(alice.token, roomId);
    const others = [await connect(alice.token, roomId), await connect(alice.token, roomId)];
    for (const socket of others) reportProgress(socket, 100);
    const sent = await storeMany("alice", roomId, LAG + 20, "y");
    expect((await silent.waitClosed(5000)).code).toBe(4008);
    // Sends after the cut-off still reach everyone else.
    const later = await alice.send(roomId, "after the cut-off");
    expect(later.status).toBe(201);
    for (const socket of others) {
      await waitForSeq(socket, later.body.seq, 10_000);
      expectSeqs(seqsOf(socket), head + 1, later.body.seq);
      expect(messagesOf(socket)).toEqual([...sent, later.body]);
      socket.close();
    }
  });
});

describe("progress across an eviction", { timeout: 40_000 }, () => {
  it("a socket's reported position is kept in its attachment to within a quarter of the lag cap, so a woken room cuts it off no earlier than that", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "slow");
    const socket = await connect(alice.token, roomId);
    const stored = async () =>
      runInDurableObject(roomStub(roomId), (instance: Room) =>
        [...instance.getConnections<SocketState>()].map((c) => c.state?.acked ?? -1),
      );
    await storeMany("alice", roomId, 200, "a");
    await waitForSeq(socket, head + 200, 10_000);
    socket.send({ type: "progress", seq: head + 200 });
    await roundTrip(socket, "first");
    // Moved 200, more than LAG / 4: written through.
    expect(await stored()).toEqual([head + 200]);

    await storeMany("alice", roomId, 50, "b");
    await waitForSeq(socket, head + 250, 10_000);
    socket.send({ type: "progress", seq: head + 250 });
    await roundTrip(socket, "second");
    // Moved 50: kept in memory only.
    expect(await stored()).toEqual([head + 200]);

    // The woken room counts from the stored position: LAG more events from there still pass.
    await evictDurableObject(roomStub(roomId));
    await storeMany("alice", roomId, LAG - 50, "c");
    await waitForSeq(socket, head + 200 + LAG, 10_000);
    await roundTrip(socket, "after-wake");
    expect(socket.closed).toBeNull();
    socket.close();
  });
});
