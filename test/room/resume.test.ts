/**
 * Resume: a socket resuming from any position gets exactly what it missed
 * (messages, joins and leaves alike), then goes live; positions that cannot
 * be replayed get `resync` with a history cursor that fills the gap exactly
 * once. (The order of live delivery is live-delivery.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { type TestSocket, connect, user } from "../helpers";
import {
  type EventFrame,
  deliveryFrames,
  expectSeqs,
  eventsOf,
  messagesOf,
  roomPosition,
  roomWithMessages,
  sendMany,
  seqsOf,
  sleep,
  storeMany,
  waitForSeq,
} from "./delivery-helpers";

const N = 40;

function liveFrame(socket: TestSocket) {
  return socket.waitFor((f): f is Extract<typeof f, { type: "live" }> => f.type === "live");
}

describe("resume from a position", () => {
  // head = N + 1: the owner's member_joined is seq 1.
  const positions = (head: number) => [
    ["the start (0)", 0],
    ["seq 1", 1],
    ["the middle", Math.floor(head / 2)],
    ["head - 1", head - 1],
    ["head", head],
  ] as const;

  it("replays the events after the given position, joins and leaves included, in order, then goes live", async () => {
    const { alice, roomId } = await roomWithMessages(0, "resume");
    const bob = await user("bob");
    expect((await bob.join(roomId)).status).toBe(200);
    const first = await connect(alice.token, roomId);
    const live = (await liveFrame(first));
    first.close();
    // Missed while away: two messages, a join, a leave.
    await bob.send(roomId, "missed 1");
    const carol = await user("carol");
    await carol.join(roomId);
    await bob.send(roomId, "missed 2");
    await carol.leave(roomId);

    const resumed = await connect(alice.token, roomId, { after: { epoch: live.epoch, seq: live.seq } });
    const events = eventsOf(resumed).map((f) => f.event);
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["message", 3],
      ["member_joined", 4],
      ["message", 5],
      ["member_left", 6],
    ]);
    expect(events[0]).toMatchObject({ message: { content: "missed 1", sender: "bob" } });
    const liveAgain = resumed.frames.find((f) => f.type === "live");
    expect(liveAgain).toMatchObject({ epoch: live.epoch, seq: 6 });
    // The live frame comes after the replay.
    expect(resumed.frames.findIndex((f) => f.type === "live")).toBe(resumed.frames.length - 1);
    // And live delivery continues after it.
    await bob.send(roomId, "now live");
    await resumed.waitFor((f) => f.type === "event" && f.event.type === "message" && f.event.message.content === "now live");
    resumed.close();
  });

  it("replays nothing when the client is already at the head", async () => {
    const { alice, roomId } = await roomWithMessages(0, "resume");
    const first = await connect(alice.token, roomId);
    const live = await liveFrame(first);
    first.close();
    const again = await connect(alice.token, roomId, { after: { epoch: live.epoch, seq: live.seq } });
    expect(again.frames.map((f) => f.type)).toEqual(["live"]);
    again.close();
  });

  it("replays exactly the events after any position, in order, then live, then new events without gap or duplicate", async () => {
    const { alice, roomId, epoch, head, sent } = await roomWithMessages(N, "resume");
    expect(head).toBe(N + 1);
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 2));

    const sockets: Array<[string, number, TestSocket]> = [];
    for (const [name, p] of positions(head)) {
      const socket = await connect(alice.token, roomId, { after: { epoch, seq: p } });
      const live = await liveFrame(socket);
      expect(live, name).toEqual({ type: "live", roomId, epoch, seq: head });
      // Everything before `live` is the replay: exactly p+1..head, in order.
      const frames = deliveryFrames(socket);
      const replayed = frames.slice(0, frames.indexOf(live));
      expect(replayed.every((f) => f.type === "event"), name).toBe(true);
      expectSeqs((replayed as EventFrame[]).map((f) => f.seq), p + 1, head);
      for (const frame of replayed as EventFrame[]) expect(frame).toMatchObject({ roomId, epoch });
      // Replayed messages are the stored ones.
      const replayedMessages = (replayed as EventFrame[]).flatMap((f) => (f.event.type === "message" ? [f.event.message] : []));
      expect(replayedMessages, name).toEqual(sent.filter((m) => m.seq > p));
      sockets.push([name, p, socket]);
    }

    // New messages arrive live on every resumed socket, right after head.
    const more = await sendMany(alice, roomId, 5, "after");
    expect(more.map((m) => m.seq)).toEqual([head + 1, head + 2, head + 3, head + 4, head + 5]);
    for (const [name, p, socket] of sockets) {
      await waitForSeq(socket, head + 5);
      const seqs = seqsOf(socket);
      expect(seqs, name).toEqual(Array.from({ length: head + 5 - p }, (_, i) => p + 1 + i));
      expect(socket.frames.filter((f) => f.type === "live"), name).toHaveLength(1);
      socket.close();
    }
  });

  it("sockets that say hello in the middle of a burst of sends lose and duplicate nothing at the replay/live seam", async () => {
    const { alice, roomId, epoch, head } = await roomWithMessages(10, "resume");
    // Sends one at a time until the sockets below are all live, then 10 more
    // (at most 90, so that every resume below stays within the replay cap).
    let limit = 90;
    const burst = (async () => {
      const out: Message[] = [];
      for (let i = 0; i < limit; i++) {
        out.push(...(await storeMany("alice", roomId, 1, `burst-${i}`)));
        await sleep(10);
      }
      return out;
    })();
    const sockets: Array<{ from: number; socket: TestSocket }> = [];
    for (let i = 0; i < 4; i++) {
      // Resume from where a client that saw the first `head - i` events would be.
      const from = head - i * 3;
      sockets.push({ from, socket: await connect(alice.token, roomId, { after: { epoch, seq: from } }) });
      // And a fresh socket: it starts at its live seq.
      const fresh = await connect(alice.token, roomId);
      sockets.push({ from: (await liveFrame(fresh)).seq, socket: fresh });
    }
    const connectedAfter = (await roomPosition(alice, roomId)).head - head;
    limit = Math.min(limit, connectedAfter + 10);
    const sent = await burst;
    const end = sent.at(-1)!.seq;
    expect(end).toBe(head + sent.length);
    for (const { from, socket } of sockets) {
      if (from < end) await waitForSeq(socket, end, 10_000);
      expectSeqs(seqsOf(socket), from + 1, end);
      socket.close();
    }
    // At least one socket went live while the burst was still running.
    expect(sockets.some(({ socket }) => socket.frames.find((f) => f.type === "live")!.seq < end)).toBe(true);
  });

  it("a position exactly REPLAY_CAP behind is replayed; one further behind gets resync", async () => {
    // REPLAY_CAP is 100 in the test config.
    const { alice, roomId, epoch, head } = await roomWithMessages(110, "resume");
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: head - 100 } });
    expect(await liveFrame(socket)).toMatchObject({ seq: head });
    expect(socket.frames.some((f) => f.type === "resync")).toBe(false);
    expectSeqs(seqsOf(socket), head - 99, head);
    socket.close();

    // One event further behind is past the cap.
    const behind = await connect(alice.token, roomId, { after: { epoch, seq: head - 101 } });
    expect(deliveryFrames(behind)[0]).toMatchObject({ type: "resync", reason: "too_far_behind", epoch, seq: head });
    expect(eventsOf(behind)).toHaveLength(0);
    behind.close();
  });
});

describe("resync", () => {
  it("a position from another epoch gets resync epoch_changed with the real epoch, head and newest-page cursor, then live", async () => {
    const { alice, roomId, epoch, head, sent } = await roomWithMessages(N, "resync");
    const socket = await connect(alice.token, roomId, { after: { epoch: "not-the-epoch", seq: 3 } });
    const resync = deliveryFrames(socket)[0];
    expect(resync).toMatchObject({ type: "resync", roomId, reason: "epoch_changed", epoch, seq: head });
    const live = await liveFrame(socket);
    expect(live).toEqual({ type: "live", roomId, epoch, seq: head });
    // Nothing is replayed from a foreign epoch.
    expect(deliveryFrames(socket).indexOf(live)).toBe(1);
    expect(eventsOf(socket)).toHaveLength(0);

    // The cursor reads the newest page, ending at head.
    const cursor = (resync as { historyCursor: string }).historyCursor;
    const page = await alice.history(roomId, `cursor=${encodeURIComponent(cursor)}&limit=10`);
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: Message) => m.seq)).toEqual(sent.slice(-10).map((m) => m.seq));

    await alice.send(roomId, "after resync");
    await waitForSeq(socket, head + 1);
    expectSeqs(seqsOf(socket), head + 1, head + 1);
    socket.close();
  });

  it("a seq beyond head with the right epoch gets resync epoch_changed", async () => {
    const { alice, roomId, epoch, head } = await roomWithMessages(5, "resync");
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: head + 1 } });
    expect(deliveryFrames(socket)[0]).toMatchObject({ type: "resync", reason: "epoch_changed", epoch, seq: head });
    expect(await liveFrame(socket)).toMatchObject({ seq: head });
    // Further ahead, the same answer.
    const farAhead = await connect(alice.token, roomId, { after: { epoch, seq: head + 10 } });
    expect(deliveryFrames(farAhead)[0]).toMatchObject({ type: "resync", reason: "epoch_changed", epoch, seq: head });
    farAhead.close();
    await alice.send(roomId, "next");
    await waitForSeq(socket, head + 1);
    expectSeqs(seqsOf(socket), head + 1, head + 1);
    socket.close();
  });

  it("a client past the replay cap gets too_far_behind; the forward cursor pages every missed message once, oldest first; live continues after head", async () => {
    // 160 messages: head 161. A client at 11 is 150 events behind (cap 100).
    const { alice, roomId, epoch, head, sent } = await roomWithMessages(160, "resync");
    const position = head - 150;
    const socket = await connect(alice.token, roomId, { after: { epoch, seq: position } });
    const resync = deliveryFrames(socket)[0];
    expect(resync).toMatchObject({ type: "resync", roomId, reason: "too_far_behind", epoch, seq: head });
    expect(await liveFrame(socket)).toEqual({ type: "live", roomId, epoch, seq: head });
    expect(eventsOf(socket)).toHaveLength(0);

    // Page forward from the client's position to head.
    const filled: Message[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = (resync as { historyCursor: string }).historyCursor;
    // A message sent meanwhile arrives live; the gap fill stops at the resync's head.
    await alice.send(roomId, "during gap fill");
    for (let i = 0; cursor !== null; i++) {
      expect(i).toBeLessThan(10);
      const page: { status: number; body: { messages: Message[]; nextCursor: string | null } } = await alice.history(
        roomId,
        `cursor=${encodeURIComponent(cursor)}&limit=60`,
      );
      expect(page.status).toBe(200);
      pageSizes.push(page.body.messages.length);
      filled.push(...page.body.messages);
      cursor = page.body.nextCursor;
    }
    expect(pageSizes).toEqual([60, 60, 30]);
    expect(filled).toEqual(sent.filter((m) => m.seq > position));
    expect(new Set(filled.map((m) => m.id)).size).toBe(filled.length);

    // Live events continue right after head: together with the fill, nothing is missing.
    await waitForSeq(socket, head + 1);
    expectSeqs(seqsOf(socket), head + 1, head + 1);
    expect(messagesOf(socket)[0]?.content).toBe("during gap fill");
    socket.close();
  });
});
