/**
 * Nothing secret reaches the logs: a scripted session (tokens, connect
 * tickets for rooms and the inbox, messages with a recognisable body over
 * HTTP and the WebSocket, an edit, a bad token, a reused ticket, hostile
 * frames and bodies carrying the body, the outbox flush, a failure path that
 * logs) runs while every console method of the Worker and its objects (one
 * isolate in the test pool) is recorded, and the record must not contain any
 * token, connect ticket or message body.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Room } from "../../src/room/room";
import { connectInbox, inboxTicket } from "../inbox/helpers";
import { api, connect, uniqueRoom, uniqueUser, upgrade, user } from "../helpers";

const METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;
let lines: string[] = [];

beforeEach(() => {
  lines = [];
  for (const method of METHODS) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : safeJson(a))).join(" "));
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

describe("logs", () => {
  it("never contain a token, a connect ticket or a message body", { timeout: 30_000 }, async () => {
    const marker = `SECRET-BODY-${crypto.randomUUID()}`;
    const body = (n: number) => `${marker}-${n}`;
    const alice = await user(uniqueUser("logscan"));
    const bob = await user(uniqueUser("logscan"));
    const room = uniqueRoom("logscan");
    expect((await alice.createRoom(room)).status).toBe(201);
    expect((await bob.join(room)).status).toBe(200);
    const secrets: string[] = [alice.token, bob.token, ...alice.token.split("."), marker];

    // Sockets: a room socket for each, an inbox socket, tickets kept to be looked for.
    const tickets: string[] = [];
    const ticketOf = (url: string) => new URL(url, "https://x").searchParams.get("ticket")!;
    const bobSocket = await connect(bob.token, room);
    const aliceSocket = await connect(alice.token, room);
    const inboxUrl = await inboxTicket(alice.token);
    tickets.push(ticketOf(inboxUrl));
    expect((await upgrade(inboxUrl)).status).toBe(101);
    const inbox = await connectInbox(bob.token);

    // Messages over HTTP and over the socket, an edit, hostile frames and bodies that carry the body.
    const sent = await alice.send(room, body(1), "client-1");
    expect(sent.status).toBe(201);
    expect((await alice.call("PATCH", `/api/rooms/${room}/messages/${sent.body.id}`, { content: body(2) })).status).toBe(200);
    aliceSocket.send({ type: "send", reqId: "s1", content: body(3) });
    await aliceSocket.waitFor((f) => f.type === "ack");
    aliceSocket.ws.send(`{"type":"send","reqId":"bad","content":"${body(4)}","__proto__":{"polluted":"${body(5)}"}}`);
    aliceSocket.ws.send(`{"type":"send","content":"${body(6)}"`);
    aliceSocket.ws.send(`{"type":"${body(7)}"}`);
    await aliceSocket.sync();
    expect((await api("POST", `/api/rooms/${room}/messages`, { token: alice.token, body: `{"content":"${body(8)}"` })).status).toBe(400);
    expect((await api("POST", `/api/rooms/${room}/messages`, { token: alice.token, body: { content: 42, clientId: body(9) } })).status).toBe(400);
    await bobSocket.waitFor((f) => f.type === "event" && f.event.type === "message" && f.event.message.content === body(3));

    // A reused ticket, a garbage token, a token signed with another key, a token in a URL.
    const ticket = await api<{ url: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: alice.token });
    tickets.push(ticketOf(ticket.body.url));
    const first = await upgrade(ticket.body.url);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    first.webSocket?.close(1000, "done");
    expect((await upgrade(ticket.body.url)).status).toBe(401);
    const garbage = `garbage.${marker}.token`;
    const forged = await new SignJWT({ sub: alice.userId })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    secrets.push(garbage, forged);
    expect((await api("GET", "/api/rooms", { token: garbage })).status).toBe(401);
    expect((await api("GET", "/api/rooms", { token: forged })).status).toBe(401);
    expect((await api("GET", `/api/rooms/${room}/messages?token=${alice.token}`)).status).toBe(401);

    // A path that logs: the user's limits object is out of reach (the send still goes through).
    await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      instance.userLimitsOf = () => ({
        takeSend: () => {
          throw new Error("limits unavailable");
        },
      });
    });
    expect((await alice.send(room, body(10))).status).toBe(201);

    // The outbox flush (index, inbox notices, push jobs) and the sweep.
    await runDurableObjectAlarm(env.ROOMS.getByName(room));
    await inbox.waitFor((f) => f.type === "inbox");
    for (const s of [aliceSocket, bobSocket]) s.close();
    inbox.close();

    const text = lines.join("\n");
    // The record is real: the failure above was logged.
    expect(text).toContain("user_limits_unavailable");
    for (const secret of [...secrets, ...tickets]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text.includes(secret), `a log line contains ${secret.slice(0, 24)}…`).toBe(false);
    }
  });
});
