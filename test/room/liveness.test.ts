/**
 * Liveness: the text heartbeat is answered by the runtime (even while the
 * room is evicted), malformed frames get error frames and never break the
 * room, and the alarm's sweep closes sockets that have gone silent for longer
 * than the heartbeat timeout (4001) while sparing the ones that heartbeat.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SocketState } from "../../src/room/connections";
import type { Room } from "../../src/room/room";
import { type TestSocket, connect, user } from "../helpers";
import {
  RawSocket,
  allMessages,
  expectSeqs,
  messagesOf,
  roomStub,
  roomWithMessages,
  seqsOf,
  sleep,
  waitForSeq,
} from "./delivery-helpers";

type Frame = TestSocket["frames"][number];
const errorFor = (socket: TestSocket, reqId: string | null, from = 0) =>
  socket.waitFor((f): f is Extract<Frame, { type: "error" }> => f.type === "error" && f.reqId === reqId, 3000, from);

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

/** Lowers the room's heartbeat timeout on the running instance. */
async function setHeartbeatTimeout(roomId: string, ms: number) {
  await runInDurableObject(roomStub(roomId), (instance: Room) => {
    (instance.core.limits as { heartbeatTimeoutMs: number }).heartbeatTimeoutMs = ms;
  });
}

describe("heartbeat", () => {
  it('the raw text "ping" is answered with the raw text "pong", before and after hello', async () => {
    const { alice, roomId } = await roomWithMessages(1, "beat");
    const socket = await RawSocket.open(alice, roomId);
    socket.send("ping");
    await socket.waitForText((t) => t === "pong");
    socket.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await socket.waitForText((t) => t.includes('"type":"live"'));
    socket.send("ping");
    socket.send("ping");
    await socket.waitForText((t) => t === "pong", 3);
    expect(socket.texts.filter((t) => t === "pong")).toHaveLength(3);
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("the heartbeat is answered while the room is evicted, and the socket still gets events afterwards", async () => {
    const { alice, roomId, head } = await roomWithMessages(1, "beat");
    const socket = await RawSocket.open(alice, roomId);
    socket.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await socket.waitForText((t) => t.includes('"type":"live"'));
    await evictDurableObject(roomStub(roomId));
    socket.send("ping");
    await socket.waitForText((t) => t === "pong");
    await alice.send(roomId, "after the heartbeat");
    await socket.waitForText((t) => t.includes('"type":"event"'));
    const events = socket.frames.filter((f) => f.type === "event");
    expect(events.map((f) => f.seq)).toEqual([head + 1]);
    socket.close();
  });

  it('a JSON {type:"ping"} frame is answered with a pong frame echoing its reqId', async () => {
    const { alice, roomId } = await roomWithMessages(0, "beat");
    const socket = await connect(alice.token, roomId);
    socket.send({ type: "ping", reqId: "hb-1" });
    socket.send({ type: "ping" });
    await socket.waitFor((f) => f.type === "pong" && f.reqId === "hb-1");
    await socket.waitFor((f) => f.type === "pong" && f.reqId === undefined);
    socket.close();
  });
});

describe("malformed frames", () => {
  it("garbage frames get error frames; the socket, the room and its history carry on", async () => {
    const { alice, roomId, head, sent } = await roomWithMessages(5, "garbage");
    const bob = await user("bob");
    await bob.join(roomId);
    const socket = await connect(alice.token, roomId);
    const bystander = await connect(bob.token, roomId);
    const start = head + 1; // bob's join

    const garbage: Array<{ frame: string | ArrayBuffer; reqId: string | null }> = [
      { frame: "not json at all", reqId: null },
      { frame: "{", reqId: null },
      { frame: "42", reqId: null },
      { frame: "null", reqId: null },
      { frame: "[]", reqId: null },
      { frame: JSON.stringify({ type: "nope", reqId: "g-unknown" }), reqId: "g-unknown" },
      { frame: JSON.stringify({ type: "send", reqId: "g-no-content" }), reqId: "g-no-content" },
      { frame: JSON.stringify({ type: "send", reqId: "g-number", content: 7 }), reqId: "g-number" },
      { frame: JSON.stringify({ type: "send", reqId: "g-empty", content: "" }), reqId: "g-empty" },
      { frame: JSON.stringify({ type: "progress", seq: -1 }), reqId: null },
      { frame: JSON.stringify({ type: "progress", seq: "12" }), reqId: null },
      { frame: JSON.stringify({ type: "hello", protocol: "one" }), reqId: null },
      { frame: JSON.stringify({ type: "send", reqId: "x".repeat(65), content: "long reqId" }), reqId: null },
      { frame: new TextEncoder().encode(JSON.stringify({ type: "send", reqId: "g-binary", content: "hi" })).buffer as ArrayBuffer, reqId: null },
    ];
    for (const { frame, reqId } of garbage) {
      const from = socket.frames.length;
      if (typeof frame === "string") socket.send(frame);
      else socket.ws.send(frame);
      const error = await errorFor(socket, reqId, from);
      expect(error.error.code, String(frame)).toBe("invalid_request");
      expect(error.error.message.length).toBeGreaterThan(0);
    }
    expect(socket.closed).toBeNull();
    // None of them stored or broadcast anything.
    expect(seqsOf(socket)).toEqual([]);

    // The same socket still sends; everyone still receives; history is intact.
    socket.send({ type: "send", reqId: "good", content: "still works" });
    const ack = await socket.waitFor((f): f is Extract<Frame, { type: "ack" }> => f.type === "ack" && f.reqId === "good");
    expect(ack.message.seq).toBe(start + 1);
    const viaHttp = await bob.send(roomId, "http too");
    expect(viaHttp.body.seq).toBe(start + 2);
    for (const s of [socket, bystander]) {
      await waitForSeq(s, start + 2);
      expectSeqs(seqsOf(s), start + 1, start + 2);
    }
    expect(await allMessages(alice, roomId)).toEqual([...sent, ack.message, viaHttp.body]);
    socket.close();
    bystander.close();
  });

  it("a frame over the size limit closes only that socket (1009); the room carries on", async () => {
    const { alice, roomId, head } = await roomWithMessages(1, "garbage");
    const big = await connect(alice.token, roomId);
    const other = await connect(alice.token, roomId);
    // 16 KiB content limit: frames over 16384 * 6 + 4096 characters are refused unparsed.
    big.send(JSON.stringify({ type: "send", reqId: "huge", content: "x".repeat(16384 * 6 + 5000) }));
    expect((await big.waitClosed()).code).toBe(1009);
    const res = await alice.send(roomId, "after the big frame");
    expect(res.status).toBe(201);
    await waitForSeq(other, head + 1);
    expect(messagesOf(other)).toEqual([res.body]);
    other.close();
  });

  it("an unsupported protocol version in hello closes that socket with 4400", async () => {
    const { alice, roomId } = await roomWithMessages(0, "garbage");
    const socket = await connect(alice.token, roomId, { hello: false });
    socket.send({ type: "hello", protocol: 999 });
    expect((await socket.waitClosed()).code).toBe(4400);
    expect(socket.frames[0]).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    const res = await alice.send(roomId, "the room is fine");
    expect(res.status).toBe(201);
  });
});

describe("dead-socket sweep", () => {
  it("the alarm closes a socket silent for longer than the heartbeat timeout with 4001, sparing one that heartbeats", async () => {
    const { alice, roomId, head } = await roomWithMessages(1, "sweep");
    const silent = await connect(alice.token, roomId);
    const beating = await RawSocket.open(alice, roomId);
    beating.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await beating.waitForText((t) => t.includes('"type":"live"'));

    await setHeartbeatTimeout(roomId, 300);
    // Keep heartbeating until the sweep has run: waiting for the sweep alarm can take
    // longer than the lowered timeout (the outbox flush alarm comes first).
    const pinger = setInterval(() => beating.send("ping"), 50);
    try {
      await sleep(400);
      await beating.waitForText((t) => t === "pong", 4);
      await runSweep(roomId);
    } finally {
      clearInterval(pinger);
    }

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
    const chatty = await connect(alice.token, roomId);
    const silent = await connect(alice.token, roomId);
    // Both were last heard from 80 s ago: past the default 75 s timeout.
    await lastHeardAgo(roomId, 80_000);
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
