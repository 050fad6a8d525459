/**
 * Malformed frames: each gets an invalid_request error frame (naming its
 * reqId when it has a usable one) and never breaks the socket, the room or
 * its history; a frame over the size limit closes only its socket (1009);
 * a hello with an unsupported protocol closes its socket (4400).
 */
import { describe, expect, it } from "vitest";
import { type TestSocket, connect, framesOf, user } from "../helpers";
import { allMessages, expectSeqs, messagesOf, roomWithMessages, seqsOf, waitForSeq } from "./delivery-helpers";

type Frame = TestSocket["frames"][number];
const errorFor = (socket: TestSocket, reqId: string | null, from = 0) =>
  socket.waitFor((f): f is Extract<Frame, { type: "error" }> => f.type === "error" && f.reqId === reqId, 3000, from);

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
      { frame: "{nope", reqId: null },
      { frame: "42", reqId: null },
      { frame: "null", reqId: null },
      { frame: "[]", reqId: null },
      { frame: JSON.stringify({ type: "nope", reqId: "g-unknown" }), reqId: "g-unknown" },
      { frame: JSON.stringify({ type: "shout", reqId: "u1" }), reqId: "u1" },
      { frame: JSON.stringify({ type: "send", reqId: "g-no-content" }), reqId: "g-no-content" },
      { frame: JSON.stringify({ type: "send", reqId: "g-number", content: 7 }), reqId: "g-number" },
      { frame: JSON.stringify({ type: "send", reqId: "g-empty", content: "" }), reqId: "g-empty" },
      { frame: JSON.stringify({ type: "send", content: "hi" }), reqId: null },
      { frame: JSON.stringify({ type: "progress", seq: -1 }), reqId: null },
      { frame: JSON.stringify({ type: "progress", seq: "12" }), reqId: null },
      { frame: JSON.stringify({ type: "hello", protocol: "one" }), reqId: null },
      { frame: JSON.stringify({ type: "send", reqId: "x".repeat(65), content: "long reqId" }), reqId: null },
      { frame: new TextEncoder().encode(JSON.stringify({ type: "send", reqId: "g-binary", content: "hi" })).buffer as ArrayBuffer, reqId: null },
      { frame: new Uint8Array([123, 125]).buffer, reqId: null },
    ];
    for (const { frame, reqId } of garbage) {
      const from = socket.frames.length;
      if (typeof frame === "string") socket.send(frame);
      else socket.ws.send(frame);
      const error = await errorFor(socket, reqId, from);
      expect(error.error.code, String(frame)).toBe("invalid_request");
      expect(error.error.message.length).toBeGreaterThan(0);
      // The first error after the frame is its own: no other answer came in between.
      expect(socket.frames.slice(from).find((f) => f.type === "error"), String(frame)).toBe(error);
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
    expect(socket.closed).toBeNull();
    socket.close();
    bystander.close();
  });

  it("a frame over the size limit closes only that socket (1009), unanswered and unstored; the room carries on", async () => {
    const { alice, roomId, head, sent } = await roomWithMessages(1, "garbage");
    const big = await connect(alice.token, roomId);
    const other = await connect(alice.token, roomId);
    // 16 KiB content limit: frames over 16384 * 6 + 4096 characters are refused unparsed.
    big.send(JSON.stringify({ type: "send", reqId: "huge", content: "x".repeat(16384 * 6 + 4096) }));
    expect((await big.waitClosed()).code).toBe(1009);
    expect(framesOf(big, "ack")).toEqual([]);
    expect(await allMessages(alice, roomId)).toEqual(sent);
    const res = await alice.send(roomId, "after the big frame");
    expect(res.status).toBe(201);
    await waitForSeq(other, head + 1);
    expect(messagesOf(other)).toEqual([res.body]);
    other.close();
  });

  it.each([2, 999])("an unsupported protocol version (%i) in hello gets an error, then closes that socket with 4400, never live", async (protocol) => {
    const { alice, roomId } = await roomWithMessages(0, "garbage");
    const socket = await connect(alice.token, roomId, { hello: false });
    socket.send({ type: "hello", protocol });
    const error = await socket.waitFor((f): f is Extract<Frame, { type: "error" }> => f.type === "error");
    expect(error.error.code).toBe("invalid_request");
    expect((await socket.waitClosed()).code).toBe(4400);
    expect(socket.frames[0]).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    expect(framesOf(socket, "live")).toEqual([]);
    const res = await alice.send(roomId, "the room is fine");
    expect(res.status).toBe(201);
  });
});
