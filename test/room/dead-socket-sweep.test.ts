/**
 * The dead-socket sweep: the room's alarm closes sockets that have sent
 * neither a frame nor a heartbeat for longer than the heartbeat timeout
 * (4001), spares the ones that did, and stays scheduled while sockets are
 * open.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SocketState } from "../../src/room/connections";
import type { Room } from "../../src/room/room";
import { connect } from "../helpers";
import { RawSocket, roomStub, roomWithMessages, sleep } from "./delivery-helpers";
import { manualClockOn } from "./helpers/clock";

/**
 * Runs the room's alarm now, once the only alarm left is the sweep's (the
 * outbox flush after a send fires on its own within a second; running the
 * alarm while it does would race it).
 */
async function runSweep(roomId: string): Promise<void> {
  const stub = roomStub(roomId);
  const deadline = Date.now() + 5000;
  for (;;) {
    const at = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    if (at !== null && at > Date.now() + 5000) break;
    if (Date.now() > deadline) throw new Error(`no sweep alarm scheduled (alarm: ${at})`);
    await sleep(50);
  }
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

/** Pretends every socket of the room last sent a frame `ms` ago (no time passes for the runtime's heartbeat record). */
async function lastHeardAgo(roomId: string, ms: number) {
  await runInDurableObject(roomStub(roomId), (instance: Room) => {
    for (const connection of instance.getConnections<SocketState>()) {
      const state = instance.sockets.get(connection);
      if (state) instance.sockets.set(connection, { ...state, since: Date.now() - ms });
    }
  });
}

describe("dead-socket sweep", () => {
  it("the alarm closes a socket silent for longer than the heartbeat timeout with 4001, sparing one that heartbeats", async () => {
    const { alice, roomId, head } = await roomWithMessages(1, "sweep");
    const silent = await connect(alice.token, roomId);
    const beating = await RawSocket.open(alice, roomId);
    beating.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await beating.waitForText((t) => t.includes('"type":"live"'));

    // A heartbeat, answered by the runtime, which records when. Then both are
    // made to have last sent a frame 80 s ago, past the default 75 s timeout:
    // only that heartbeat tells them apart.
    beating.send("ping");
    await beating.waitForText((t) => t === "pong");
    await lastHeardAgo(roomId, 80_000);
    await runSweep(roomId);

    expect((await silent.waitClosed()).code).toBe(4001);
    expect(beating.closed).toBeNull();
    // The survivor is still live.
    const res = await alice.send(roomId, "after the sweep");
    await beating.waitForText((t) => t.includes('"type":"event"'));
    expect(beating.frames.filter((f) => f.type === "event").map((f) => f.seq)).toEqual([res.body.seq]);
    expect(res.body.seq).toBe(head + 1);
    beating.close();
  });

  it("a socket that keeps sending frames (but no text heartbeat) is not taken for dead; a silent one is, at the default timeout", async () => {
    // SocketState.since: "when the socket connected or last sent a frame";
    // config: "a socket silent (no frame, no heartbeat) for this long is presumed dead".
    const { alice, roomId } = await roomWithMessages(1, "sweep");
    const clock = await manualClockOn(roomStub(roomId));
    const chatty = await connect(alice.token, roomId);
    const silent = await connect(alice.token, roomId);
    // Run what is due now (the first message's flush), so that no alarm set by
    // the real time fires while the clock is ahead of it.
    await runDurableObjectAlarm(roomStub(roomId));
    // Both were last heard from 80 s ago by the room's clock: past the default 75 s timeout.
    clock.advance(80_000);
    chatty.send({ type: "send", reqId: "s1", content: "still here" });
    chatty.send({ type: "ping", reqId: "p1" });
    await chatty.waitFor((f) => f.type === "ack" && f.reqId === "s1");
    await chatty.waitFor((f) => f.type === "pong" && f.reqId === "p1");
    await runSweep(roomId);
    expect((await silent.waitClosed()).code).toBe(4001);
    chatty.send({ type: "ping", reqId: "after" });
    await chatty.waitFor((f) => f.type === "pong" && f.reqId === "after");
    expect(chatty.closed).toBeNull();
    chatty.close();
  });

  it("with the default timeout, the alarm leaves fresh sockets alone and stays scheduled while sockets are open", async () => {
    const { alice, roomId } = await roomWithMessages(1, "sweep");
    const socket = await connect(alice.token, roomId);
    await runSweep(roomId);
    socket.send({ type: "ping", reqId: "alive" });
    await socket.waitFor((f) => f.type === "pong" && f.reqId === "alive");
    expect(socket.closed).toBeNull();
    // The sweep re-armed itself for the open socket.
    expect(await runInDurableObject(roomStub(roomId), (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    socket.close();
  });
});
