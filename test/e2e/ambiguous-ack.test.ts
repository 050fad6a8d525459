/**
 * The ambiguous ack: the message is stored, then the connection dies before
 * the answer arrives. The SDK cannot tell this from a send that never arrived,
 * so it retries with the same clientId, and the room must store it once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatClient, type Message } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

let chat: LocalChat;
beforeAll(async () => {
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
});

describe("ambiguous acks", () => {
  it("a send whose answer is lost after it was stored is stored exactly once, every time", async () => {
    const token = await chat.token("amb");
    let dropped = 0;
    // Lets every send reach the server and be stored, then loses the first answer of each.
    const answered = new Set<string>();
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = typeof init?.body === "string" ? init.body : "";
      if (init?.method === "POST" && String(input).endsWith("/messages") && !answered.has(body)) {
        answered.add(body);
        await response.arrayBuffer();
        dropped++;
        throw new TypeError("connection reset after the request was processed");
      }
      return response;
    };
    const client = new ChatClient({ baseUrl: chat.baseUrl, token, fetch: losingFetch });
    await client.createRoom("ambiguous");

    const TRIALS = 60;
    const acks: Message[] = [];
    for (let i = 0; i < TRIALS; i++) acks.push(await client.sendMessage("ambiguous", `trial ${i}`, { clientId: `trial-${i}` }));
    expect(dropped).toBe(TRIALS);

    const page = await client.getHistory("ambiguous", { limit: 200 });
    expect(page.messages).toHaveLength(TRIALS);
    for (let i = 0; i < TRIALS; i++) {
      const stored = page.messages.filter((m) => m.clientId === `trial-${i}`);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ id: acks[i]!.id, seq: acks[i]!.seq, content: `trial ${i}` });
    }
  });

  it("concurrent sends keep their order even when some must be retried", async () => {
    const token = await chat.token("order");
    let n = 0;
    const flakyFetch: typeof fetch = async (input, init) => {
      if (init?.method === "POST" && String(input).endsWith("/messages") && n++ % 3 === 0) throw new TypeError("network down");
      return fetch(input, init);
    };
    const client = new ChatClient({ baseUrl: chat.baseUrl, token, fetch: flakyFetch });
    await client.createRoom("ordered");
    const sends = Array.from({ length: 30 }, (_, i) => client.sendMessage("ordered", `m${i}`));
    const acks = await Promise.all(sends);
    const seqs = acks.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const page = await client.getHistory("ordered", { limit: 100 });
    expect(page.messages.map((m) => m.content)).toEqual(acks.map((_, i) => `m${i}`));
  });
});
