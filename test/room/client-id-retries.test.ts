/**
 * Retries with a clientId: a send repeated with the same clientId (after an
 * ambiguous ack on a closed socket, over HTTP, or on the same socket) is
 * stored once and answered with the original message.
 */
import { describe, expect, it } from "vitest";
import type { Message, ServerFrame } from "../../src/protocol";
import { type TestSocket, connect, user } from "../helpers";
import { allMessages, expectSeqs, messagesOf, roomWithMessages, seqsOf, waitForSeq } from "./delivery-helpers";

type Ack = Extract<ServerFrame, { type: "ack" }>;
const ackFor = (socket: TestSocket, reqId: string, ms = 3000) =>
  socket.waitFor((f): f is Ack => f.type === "ack" && f.reqId === reqId, ms);

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

  it("a retry with the same clientId on the same socket gets an ack with the original message; it is stored and broadcast once", async () => {
    const { alice, roomId } = await roomWithMessages(0, "retry");
    const bob = await user("bob");
    await bob.join(roomId);
    const socket = await connect(alice.token, roomId);
    const observer = await connect(bob.token, roomId);
    socket.send({ type: "send", reqId: "a", content: "once", clientId: "same" });
    socket.send({ type: "send", reqId: "b", content: "once", clientId: "same" });
    const [a, b] = [await ackFor(socket, "a"), await ackFor(socket, "b")];
    expect(b.message).toEqual(a.message);
    const stored = await allMessages(alice, roomId);
    expect(stored.filter((m) => m.clientId === "same")).toEqual([a.message]);
    // Only the original was broadcast, to the sender's socket and to the others:
    // after a round trip on each, anything broadcast for the retry would be here.
    await waitForSeq(socket, a.message.seq);
    await socket.sync();
    await observer.sync();
    expect(messagesOf(socket)).toEqual([a.message]);
    expect(messagesOf(observer)).toEqual([a.message]);
    socket.close();
    observer.close();
  });
});
