/**
 * Delivery under faults, reported in Jepsen's terms. Clients in several rooms
 * send concurrently through the SDK while the test drops their sockets at
 * random, aborts room objects, and SIGKILLs `wrangler dev` and restarts it on
 * the same local state. Afterwards every client resyncs, and the run is good
 * only with 0 lost, 0 unexpected and 0 out of order, every acknowledged
 * message in history exactly once, and every subscriber holding every message
 * of its room exactly once.
 *
 * Size: FAULT_ROOMS x FAULT_CLIENTS clients, FAULT_MESSAGES sends each
 * (defaults fit CI; e.g. FAULT_ROOMS=5 FAULT_CLIENTS=6 FAULT_MESSAGES=100 for more).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ChatClient, type Message, type Subscription, type WebSocketConstructor } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

const ROOMS = Number(process.env.FAULT_ROOMS ?? 3);
const CLIENTS = Number(process.env.FAULT_CLIENTS ?? 3);
const MESSAGES = Number(process.env.FAULT_MESSAGES ?? 40);

let chat: LocalChat;
beforeAll(async () => {
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
});

/** Every socket the SDK opens, so the test can cut them like a flaky network would. */
const openSockets = new Set<WebSocket>();
class TrackedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    openSockets.add(this);
    this.on("close", () => openSockets.delete(this));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

interface Participant {
  userId: string;
  roomId: string;
  client: ChatClient;
  sub: Subscription;
  received: Message[];
  outOfOrder: number;
}

describe("delivery under faults", () => {
  it(`${ROOMS} rooms x ${CLIENTS} clients x ${MESSAGES} messages: nothing lost, duplicated, unexpected or out of order`, { timeout: 600_000 }, async () => {
    const participants: Participant[] = [];
    for (let r = 0; r < ROOMS; r++) {
      const roomId = `fault-${r}`;
      for (let c = 0; c < CLIENTS; c++) {
        const userId = `f${r}u${c}`;
        const token = await chat.token(userId);
        const client = new ChatClient({ baseUrl: chat.baseUrl, token, WebSocket: TrackedWebSocket as unknown as WebSocketConstructor });
        if (c === 0) await client.createRoom(roomId);
        else await client.joinRoom(roomId);
        participants.push({ userId, roomId, client, sub: null as unknown as Subscription, received: [], outOfOrder: 0 });
      }
    }
    for (const p of participants) {
      p.sub = await p.client.subscribe(p.roomId, {
        onMessage: (m) => {
          const last = p.received[p.received.length - 1];
          if (last && m.seq <= last.seq) p.outOfOrder++;
          p.received.push(m);
        },
      });
    }

    // ---- the workload: every client sends its messages concurrently with the others
    const attempted = new Map<string, { roomId: string; sender: string; content: string }>();
    const acknowledged = new Map<string, Message>();
    let failed = 0;
    const sending = participants.map(async (p) => {
      for (let i = 0; i < MESSAGES; i++) {
        const clientId = `${p.userId}-${i}`;
        const content = `${p.userId} says ${i}`;
        attempted.set(clientId, { roomId: p.roomId, sender: p.userId, content });
        try {
          acknowledged.set(clientId, await p.client.sendMessage(p.roomId, content, { clientId }));
        } catch {
          failed++;
        }
        await sleep(Math.random() * 30);
      }
    });
    let done = false;
    const allSent = Promise.all(sending).then(() => {
      done = true;
    });

    // ---- the nemesis
    // The server kills are tied to progress, not to the clock: a fast machine
    // once finished every send before a timed kill came round, and the run
    // proved nothing about restarts.
    const total = participants.length * MESSAGES;
    const killAt = [Math.floor(total * 0.25), Math.floor(total * 0.6)];
    const faults = { socketDrops: 0, roomAborts: 0, serverKills: 0 };
    const nemesis = (async () => {
      let step = 0;
      let nextFault = Date.now() + 150 + Math.random() * 250;
      while (!done) {
        await sleep(25);
        if (faults.serverKills < killAt.length && acknowledged.size >= killAt[faults.serverKills]!) {
          await chat.kill(true);
          faults.serverKills++;
          await sleep(500);
          await chat.restart();
          continue;
        }
        if (Date.now() < nextFault) continue;
        nextFault = Date.now() + 150 + Math.random() * 250;
        step++;
        if (step % 3 === 0) {
          await fetch(`${chat.baseUrl}/api/dev/rooms/fault-${Math.floor(Math.random() * ROOMS)}/abort`, { method: "POST" }).catch(() => {});
          faults.roomAborts++;
        } else if (openSockets.size > 0) {
          pick([...openSockets]).terminate();
          faults.socketDrops++;
        }
      }
    })();
    await Promise.all([allSent, nemesis]);

    // ---- resync: every subscriber catches up to its room's head
    const reader = participants[0]!.client;
    const history = new Map<string, Message[]>();
    for (let r = 0; r < ROOMS; r++) {
      const roomId = `fault-${r}`;
      const member = participants.find((p) => p.roomId === roomId)!.client;
      const messages: Message[] = [];
      let cursor: string | null = null;
      let headSeq = 0;
      do {
        const page = await member.getHistory(roomId, { limit: 200, cursor });
        if (!cursor) headSeq = page.headSeq;
        messages.unshift(...page.messages);
        cursor = page.nextCursor;
      } while (cursor);
      history.set(roomId, messages);
      const deadline = Date.now() + 90_000;
      for (const p of participants.filter((x) => x.roomId === roomId)) {
        while (p.sub.lastSeq < headSeq && Date.now() < deadline) await sleep(50);
      }
    }
    void reader;

    // ---- the checker
    let lost = 0;
    let duplicated = 0;
    let unexpected = 0;
    let notDelivered = 0;
    let deliveredTwice = 0;
    const outOfOrder = participants.reduce((n, p) => n + p.outOfOrder, 0);
    for (const [roomId, messages] of history) {
      const byClientId = new Map<string, number>();
      for (const m of messages) {
        const key = m.clientId ?? "";
        byClientId.set(key, (byClientId.get(key) ?? 0) + 1);
        const intent = attempted.get(key);
        if (!intent || intent.roomId !== roomId || intent.sender !== m.sender || intent.content !== m.content) unexpected++;
      }
      for (const count of byClientId.values()) if (count > 1) duplicated += count - 1;
      for (const [clientId, ack] of acknowledged) {
        if (ack.roomId !== roomId) continue;
        const stored = messages.filter((m) => m.clientId === clientId);
        if (stored.length === 0 || stored[0]!.id !== ack.id || stored[0]!.seq !== ack.seq) lost++;
      }
      for (const p of participants.filter((x) => x.roomId === roomId)) {
        const seen = new Map<string, number>();
        for (const m of p.received) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
        for (const m of messages) {
          const n = seen.get(m.id) ?? 0;
          if (n === 0) notDelivered++;
          if (n > 1) deliveredTwice += n - 1;
        }
      }
    }
    const report = {
      attempted: attempted.size,
      acknowledged: acknowledged.size,
      failed,
      lost,
      duplicated,
      unexpected,
      outOfOrder,
      notDeliveredToSubscribers: notDelivered,
      deliveredTwiceToSubscribers: deliveredTwice,
      ...faults,
    };
    console.log(`fault run: ${JSON.stringify(report)}`);
    const behind = participants.filter((p) => p.sub.lastSeq < (history.get(p.roomId)?.at(-1)?.seq ?? 0));
    if (behind.length > 0) console.log(`subscriptions behind: ${JSON.stringify(behind.map((p) => ({ user: p.userId, lastSeq: p.sub.lastSeq, state: p.sub.state })))}`);
    for (const p of participants) p.client.close();

    expect(faults.serverKills).toBe(2);
    expect(report).toMatchObject({ lost: 0, unexpected: 0, outOfOrder: 0, duplicated: 0, notDeliveredToSubscribers: 0, deliveredTwiceToSubscribers: 0 });
    // A network outage or a restart alone never fails a send.
    expect(report.acknowledged).toBe(report.attempted);
  });
});
