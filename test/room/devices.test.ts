/**
 * Several devices of one user: every socket of the room (the sender's other
 * devices included) gets each event exactly once, and only the sending
 * device gets the ack. (Leaving on one device is leaving.test.ts; retries
 * with a clientId are client-id-retries.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import { type TestSocket, connect, user } from "../helpers";
import { expectSeqs, messagesOf, roomWithMessages, seqsOf, waitForSeq } from "./delivery-helpers";

type Ack = Extract<ServerFrame, { type: "ack" }>;
const ackFor = (socket: TestSocket, reqId: string, ms = 3000) =>
  socket.waitFor((f): f is Ack => f.type === "ack" && f.reqId === reqId, ms);

describe("two devices of one user", () => {
  it("a send from device 1 is acked on device 1 only, and delivered once to both devices and to bob", async () => {
    const { alice, roomId, head } = await roomWithMessages(2, "devices");
    const bob = await user("bob");
    await bob.join(roomId);
    const phone = await connect(alice.token, roomId);
    const laptop = await connect(alice.token, roomId);
    const bobSocket = await connect(bob.token, roomId);
    const start = head + 1; // bob's join

    phone.send({ type: "send", reqId: "r1", content: "from my phone", clientId: "dev-1" });
    const ack = await ackFor(phone, "r1");
    expect(ack.message).toMatchObject({ sender: "alice", content: "from my phone", clientId: "dev-1", seq: start + 1, roomId });

    // A later message from bob marks the point by which everything has arrived.
    const marker = await bob.send(roomId, "marker");
    expect(marker.body.seq).toBe(start + 2);
    for (const socket of [phone, laptop, bobSocket]) {
      await waitForSeq(socket, start + 2);
      expectSeqs(seqsOf(socket), start + 1, start + 2);
      expect(messagesOf(socket).filter((m) => m.id === ack.message.id)).toEqual([ack.message]);
    }
    expect(phone.frames.filter((f) => f.type === "ack")).toHaveLength(1);
    expect(laptop.frames.filter((f) => f.type === "ack")).toHaveLength(0);
    expect(bobSocket.frames.filter((f) => f.type === "ack")).toHaveLength(0);
    for (const socket of [phone, laptop, bobSocket]) socket.close();
  });

  it("both devices send at once; every socket sees the same gap-free sequence and each device gets only its own acks", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "devices");
    const phone = await connect(alice.token, roomId);
    const laptop = await connect(alice.token, roomId);
    for (let i = 0; i < 10; i++) {
      phone.send({ type: "send", reqId: `p${i}`, content: `phone ${i}` });
      laptop.send({ type: "send", reqId: `l${i}`, content: `laptop ${i}` });
    }
    await ackFor(phone, "p9", 5000);
    await ackFor(laptop, "l9", 5000);
    for (const socket of [phone, laptop]) {
      await waitForSeq(socket, head + 20);
      expectSeqs(seqsOf(socket), head + 1, head + 20);
    }
    expect(messagesOf(phone)).toEqual(messagesOf(laptop));
    const acks = (socket: TestSocket) => socket.frames.filter((f): f is Ack => f.type === "ack").map((f) => f.reqId);
    expect(acks(phone)).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    expect(acks(laptop)).toEqual(Array.from({ length: 10 }, (_, i) => `l${i}`));
    // Each device's sends are stored in the order it sent them.
    const contents = messagesOf(phone).map((m) => m.content);
    expect(contents.filter((c) => c.startsWith("phone"))).toEqual(Array.from({ length: 10 }, (_, i) => `phone ${i}`));
    expect(contents.filter((c) => c.startsWith("laptop"))).toEqual(Array.from({ length: 10 }, (_, i) => `laptop ${i}`));
    phone.close();
    laptop.close();
  });
});
