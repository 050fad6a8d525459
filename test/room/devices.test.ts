/**
 * Several devices of one user, and retries after an ambiguous ack: every
 * socket of the room (the sender's other devices included) gets each event
 * exactly once, and a send repeated with the same clientId is stored once and
 * answered with the original message.
 */
import { describe, expect, it } from "vitest";
import type { Message, ServerFrame } from "../../src/protocol";
import { type TestSocket, connect, user } from "../helpers";
import { allMessages, expectSeqs, messagesOf, roomWithMessages, seqsOf, waitForSeq } from "./delivery-helpers";

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

  it("leaving on one device closes every device of that user with 4003; other members see member_left", async () => {
    const { alice, roomId } = await roomWithMessages(1, "devices");
    const bob = await user("bob");
    await bob.join(roomId);
    const bobPhone = await connect(bob.token, roomId);
    const bobLaptop = await connect(bob.token, roomId);
    const aliceSocket = await connect(alice.token, roomId);
    expect((await bob.leave(roomId)).status).toBe(200);
    expect((await bobPhone.waitClosed()).code).toBe(4003);
    expect((await bobLaptop.waitClosed()).code).toBe(4003);
    const left = await aliceSocket.waitFor((f) => f.type === "event" && f.event.type === "member_left");
    expect(left).toMatchObject({ event: { userId: "bob" } });
    aliceSocket.close();
  });
});

describe("retries after an ambiguous ack", () => {
  const TRIALS = 30;

  it(`a send whose socket closed before the ack, retried with the same clientId, is stored exactly once (${TRIALS} trials)`, async () => {
    const { alice, roomId } = await roomWithMessages(0, "retry");
    const bob = await user("bob");
    await bob.join(roomId);
    const observer = await connect(bob.token, roomId);
    const answers = new Map<string, Message>();

    for (let i = 0; i < TRIALS; i++) {
      const clientId = `ambiguous-${i}`;
      // The contents differ only so that the stored message tells which attempt won.
      const content = `trial ${i}`;
      const retryContent = `trial ${i} (retry)`;
      // Every third trial, the retry socket is already open and fires at once,
      // so the original and the retry are in flight together.
      const racing = i % 3 === 2 ? await connect(alice.token, roomId) : null;
      const first = await connect(alice.token, roomId);
      first.send({ type: "send", reqId: `first-${i}`, content, clientId });
      first.close(); // never waits for the ack

      let answer: Message;
      if (racing) {
        racing.send({ type: "send", reqId: `retry-${i}`, content: retryContent, clientId });
        answer = (await ackFor(racing, `retry-${i}`)).message;
        racing.close();
      } else if (i % 3 === 0) {
        const res = await alice.send(roomId, retryContent, clientId);
        expect(res.status, `trial ${i}`).toBe(201);
        answer = res.body as Message;
      } else {
        const retry = await connect(alice.token, roomId);
        retry.send({ type: "send", reqId: `retry-${i}`, content: retryContent, clientId });
        answer = (await ackFor(retry, `retry-${i}`)).message;
        retry.close();
      }
      expect(answer, `trial ${i}`).toMatchObject({ clientId, sender: "alice" });
      expect([content, retryContent], `trial ${i}`).toContain(answer.content);
      answers.set(clientId, answer);
    }

    const stored = await allMessages(alice, roomId);
    for (const [clientId, answer] of answers) {
      const copies = stored.filter((m) => m.clientId === clientId);
      // Exactly one stored; the retry's answer is that message (its original id and seq).
      expect(copies, clientId).toEqual([answer]);
    }
    expect(stored).toHaveLength(TRIALS);
    // The closed socket's send was stored before its retry arrived (the case
    // that matters: the retry is the duplicate, and is answered with the original).
    const originalsWon = stored.filter((m) => !m.content.endsWith("(retry)")).length;
    expect(originalsWon).toBeGreaterThan(0);

    // The live observer saw each message once, with no gaps in between.
    const last = stored.at(-1)!.seq;
    await waitForSeq(observer, last, 5000);
    const seen = messagesOf(observer);
    expect(seen).toEqual(stored);
    expectSeqs(seqsOf(observer), stored[0]!.seq, last);
    observer.close();
  }, 60_000);

  it("a retry with the same clientId on the same socket gets an ack with the original message", async () => {
    const { alice, roomId } = await roomWithMessages(0, "retry");
    const socket = await connect(alice.token, roomId);
    socket.send({ type: "send", reqId: "a", content: "once", clientId: "same" });
    socket.send({ type: "send", reqId: "b", content: "once", clientId: "same" });
    const [a, b] = [await ackFor(socket, "a"), await ackFor(socket, "b")];
    expect(b.message).toEqual(a.message);
    const stored = await allMessages(alice, roomId);
    expect(stored.filter((m) => m.clientId === "same")).toEqual([a.message]);
    // Only the original was broadcast.
    await waitForSeq(socket, a.message.seq);
    expect(messagesOf(socket)).toEqual([a.message]);
    socket.close();
  });
});
