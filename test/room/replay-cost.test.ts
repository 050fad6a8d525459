/**
 * What one resume may cost the room (issue 15, item 1; DESIGN.md promise 11):
 * a socket gets one replay (a second `hello` is refused), a replay sends each
 * edited message's content once however often it was edited, and it stops
 * at REPLAY_MAX_BYTES with a `resync` whose history cursor fills the rest
 * exactly once. Bytes are counted as they arrive and frames summarised, so a
 * regression shows as a number instead of holding hundreds of MB in memory.
 */
import { SELF, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type RoomEvent, ServerFrame } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import { decodeCursor, forwardCursor } from "../../src/room/history";
import { BASE, api, connect, uniqueRoom, user } from "../helpers";
import { stubOf } from "./helpers/rooms";

/** 16,000 control characters: 16,000 bytes stored, 96,000 once JSON-escaped (\u0001). */
const HEAVY = "\u0001".repeat(16_000);

interface Summary {
  type: ServerFrame["type"];
  seq?: number;
  event?: { type: RoomEvent["type"]; contentLength?: number; supersededBy?: number };
  code?: string;
  reason?: string;
  historyCursor?: string;
  reqId?: string;
}

/** A socket that keeps only a summary of each frame and counts the bytes it received. */
async function countingSocket(token: string, roomId: string) {
  const ticket = await api<{ url: string }>("POST", `/api/rooms/${roomId}/connect-ticket`, { token });
  expect(ticket.status).toBe(200);
  const res = await SELF.fetch(`${BASE}${ticket.body.url}`, { headers: { Upgrade: "websocket" } });
  const ws = res.webSocket!;
  ws.accept();
  const state = { bytes: 0, frames: [] as Summary[], closed: false };
  const encoder = new TextEncoder();
  let wake: (() => void) | null = null;
  ws.addEventListener("message", (e) => {
    const text = String(e.data);
    state.bytes += encoder.encode(text).byteLength;
    const frame = ServerFrame.parse(JSON.parse(text));
    const summary: Summary = { type: frame.type };
    if (frame.type === "event") {
      const event = frame.event;
      summary.seq = frame.seq;
      summary.event = { type: event.type };
      if (event.type === "message" || event.type === "message_edited") summary.event.contentLength = event.message.content.length;
      if (event.type === "message_edited" && event.supersededBy !== undefined) summary.event.supersededBy = event.supersededBy;
    } else if (frame.type === "error") {
      summary.code = frame.error.code;
    } else if (frame.type === "resync") {
      Object.assign(summary, { seq: frame.seq, reason: frame.reason, historyCursor: frame.historyCursor });
    } else if (frame.type === "live") {
      summary.seq = frame.seq;
    } else if (frame.type === "pong") {
      summary.reqId = frame.reqId;
    }
    state.frames.push(summary);
    wake?.();
  });
  ws.addEventListener("close", () => {
    state.closed = true;
    wake?.();
  });
  let pings = 0;
  return {
    state,
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    /** Frames on a socket arrive in order: once the pong is here, every answer before it is too. */
    async sync(ms = 60_000) {
      const reqId = `sync-${++pings}`;
      ws.send(JSON.stringify({ type: "ping", reqId }));
      const deadline = Date.now() + ms;
      while (!state.frames.some((f) => f.type === "pong" && f.reqId === reqId)) {
        if (state.closed) throw new Error("socket closed while syncing");
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no pong within ${ms} ms (${state.frames.length} frames, ${state.bytes} bytes)`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    close: () => ws.close(1000, "done"),
  };
}

/** Lets a replay run as far as the test needs: the test Worker's REPLAY_CAP is 100 events. */
async function setReplayLimits(roomId: string, limits: { replayCap?: number; replayMaxBytes?: number }) {
  await runInDurableObject(stubOf(roomId), (instance: Room) => {
    Object.assign(instance.core.limits as unknown as Record<string, number>, limits);
  });
}

/**
 * `count` edits of the message at `seq`, written as the edit path writes them
 * (the row rewritten in place, a `message_edited` event pointing at it), but
 * straight into the log: what is under test is the replay, not the edit
 * budget in front of the edit route.
 */
async function editMany(roomId: string, messageSeq: number, count: number) {
  await runInDurableObject(stubOf(roomId), (instance: Room) => {
    const log = instance.core.log;
    const row = log.findMessage(log.message(messageSeq)!.id)!;
    for (let i = 0; i < count; i++) {
      log.rewrite(messageSeq, `${HEAVY.slice(0, -1)}${String.fromCharCode(0x41 + (i % 26))}`, log.now());
      log.appendNotice("message_edited", row.actor, { messageId: row.msg_id, messageSeq });
    }
  });
}

async function heavyRoom(prefix: string) {
  const alice = await user("alice");
  const roomId = uniqueRoom(prefix);
  expect((await alice.createRoom(roomId)).status).toBe(201);
  return { alice, roomId };
}

describe("replay cost", () => {
  it("400 edits of a 16,000-character message, then 10 hellos from seq 0: one replay, each content once, bounded bytes", { timeout: 120_000 }, async () => {
    const { alice, roomId } = await heavyRoom("replay-edits");
    const sent = await alice.send(roomId, HEAVY);
    expect(sent.status).toBe(201);
    const messageSeq = sent.body.seq as number;
    await editMany(roomId, messageSeq, 400);
    await setReplayLimits(roomId, { replayCap: 5_000 });
    const head = (await alice.history(roomId)).body.headSeq as number;
    expect(head).toBe(messageSeq + 400);
    const epoch = (await alice.history(roomId)).body.epoch as string;

    const socket = await countingSocket(alice.token, roomId);
    for (let i = 0; i < 10; i++) socket.send({ type: "hello", protocol: 1, after: { epoch, seq: 0 } });
    await socket.sync();
    const { frames, bytes } = socket.state;
    console.log(`replay of 400 edits, 10 hellos: ${frames.length} frames, ${bytes} bytes`);

    // One replay and one live; every later hello is refused with invalid_request, replaying nothing.
    expect(frames.filter((f) => f.type === "live")).toEqual([{ type: "live", seq: head }]);
    expect(frames.filter((f) => f.type === "error")).toEqual(Array(9).fill({ type: "error", code: "invalid_request" }));
    const events = frames.filter((f) => f.type === "event");
    expect(events.map((f) => f.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(frames.findIndex((f) => f.type === "live")).toBe(events.length);
    // Gap-free, and the content travels twice: with the message, and with its last edit.
    const edits = events.filter((f) => f.event!.type === "message_edited");
    expect(edits).toHaveLength(400);
    expect(edits.slice(0, -1).every((f) => f.event!.supersededBy === head && f.event!.contentLength === 0)).toBe(true);
    expect(edits.at(-1)!.event).toEqual({ type: "message_edited", contentLength: 16_000 });
    expect(events.find((f) => f.seq === messageSeq)!.event).toEqual({ type: "message", contentLength: 16_000 });
    // Two escaped contents (96 KB each) and 400 frames of a few hundred bytes (352 KB measured);
    // before, 10 replays of 401 full copies each (386 MB).
    expect(bytes).toBeLessThan(2 * 96_500 + 402 * 600);
    socket.close();
  });

  it("replays a message edited before the position once, at its last edit, and the SDK's view ends at that state", async () => {
    const { alice, roomId } = await heavyRoom("replay-edits");
    const sent = await alice.send(roomId, "short");
    const messageSeq = sent.body.seq as number;
    await editMany(roomId, messageSeq, 5);
    const { epoch, headSeq } = (await alice.history(roomId)).body as { epoch: string; headSeq: number };
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: messageSeq } });
    const events = socket.frames.flatMap((f) => (f.type === "event" ? [f.event] : []));
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7]);
    const edited = events as Extract<RoomEvent, { type: "message_edited" }>[];
    for (const e of edited.slice(0, -1)) {
      expect(e).toMatchObject({ type: "message_edited", supersededBy: headSeq, message: { seq: messageSeq, sender: alice.userId, content: "" } });
      expect(e.message.editedTs).toBe(e.ts);
    }
    expect(edited.at(-1)!.supersededBy).toBeUndefined();
    expect(edited.at(-1)!.message).toMatchObject({ seq: messageSeq, content: `${HEAVY.slice(0, -1)}E` });
    socket.close();
  });

  it("a second hello on a live socket gets invalid_request and no replay; the socket stays open", async () => {
    const { alice, roomId } = await heavyRoom("replay-hello");
    for (let i = 0; i < 3; i++) await alice.send(roomId, `m${i}`);
    const { epoch } = (await alice.history(roomId)).body as { epoch: string };
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: 0 } });
    const before = socket.frames.length;
    socket.send({ type: "hello", protocol: 1, after: { epoch, seq: 0 } });
    socket.send({ type: "hello", protocol: 1 });
    await socket.sync();
    const later = socket.frames.slice(before).filter((f) => f.type !== "pong" && f.type !== "presence");
    expect(later).toEqual([
      { type: "error", reqId: null, error: { code: "invalid_request", message: expect.any(String) } },
      { type: "error", reqId: null, error: { code: "invalid_request", message: expect.any(String) } },
    ]);
    expect(socket.closed).toBeNull();
    // Still live: new events arrive.
    await alice.send(roomId, "after");
    await socket.waitFor((f) => f.type === "event" && f.event.type === "message" && f.event.message.content === "after");
    socket.close();
  });

  it("stops at REPLAY_MAX_BYTES with resync from the last event sent; that cursor fills the rest exactly once", async () => {
    const { alice, roomId } = await heavyRoom("replay-bytes");
    for (let i = 0; i < 6; i++) expect((await alice.send(roomId, HEAVY)).status).toBe(201);
    await alice.send(roomId, "light");
    await setReplayLimits(roomId, { replayMaxBytes: 250_000 });
    const { epoch, headSeq: head } = (await alice.history(roomId)).body as { epoch: string; headSeq: number };

    const socket = await countingSocket(alice.token, roomId);
    socket.send({ type: "hello", protocol: 1, after: { epoch, seq: 0 } });
    await socket.sync();
    const { frames, bytes } = socket.state;
    // member_joined, then two escaped contents fit in 250,000 bytes; the third would not.
    const events = frames.filter((f) => f.type === "event");
    expect(events.map((f) => f.seq)).toEqual([1, 2, 3]);
    const resync = frames.find((f) => f.type === "resync")!;
    expect(resync).toMatchObject({ reason: "too_far_behind", seq: head });
    expect(decodeCursor(resync.historyCursor!)).toEqual({ a: 3, u: head });
    expect(frames.map((f) => f.type).filter((t) => t !== "presence")).toEqual(["event", "event", "event", "resync", "live", "pong"]);
    expect(bytes).toBeLessThan(250_000 + 1_000);

    // The client pages history from the cursor: exactly the events it did not get.
    const seqs: number[] = [];
    let cursor: string | null = resync.historyCursor!;
    while (cursor) {
      const page = await alice.history(roomId, `limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      seqs.push(...(page.body.events as RoomEvent[]).map((e) => e.seq));
      cursor = page.body.nextCursor;
    }
    expect(seqs).toEqual(Array.from({ length: head - 3 }, (_, i) => i + 4));
    socket.close();
  });

  it("a first event larger than the byte cap resyncs from the client's own position, as the event cap does", async () => {
    const { alice, roomId } = await heavyRoom("replay-bytes");
    await alice.send(roomId, HEAVY);
    await setReplayLimits(roomId, { replayMaxBytes: 50_000 });
    const { epoch, headSeq: head } = (await alice.history(roomId)).body as { epoch: string; headSeq: number };
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: 1 } });
    await socket.waitFor((f) => f.type === "live");
    expect(socket.frames.map((f) => f.type)).toEqual(["resync", "live"]);
    expect(socket.frames[0]).toEqual({ type: "resync", roomId, reason: "too_far_behind", epoch, seq: head, historyCursor: forwardCursor(1, head) });
    socket.close();
  });
});
