/**
 * The edges of a WebSocket upgrade (issue 15, items 13 and 14): a missing or
 * malformed ticket is refused before any object is asked (so no room or inbox
 * comes into being under a guessed name); client-sent `x-partykit-*` headers
 * never reach the room; an upgrade that fails inside the room answers a code
 * and a message, never an error's stack; the per-IP limit counts an IPv6
 * client by its /64; HSTS is on the Worker's https answers.
 */
import { SELF, env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, api, freshMinute, socketOf, uniqueRoom, uniqueUser, upgrade, user } from "../helpers";

const known = async <T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>, name: string) => {
  const id = ns.idFromName(name).toString();
  return (await listDurableObjectIds(ns)).some((d) => d.toString() === id);
};

const MALFORMED = ["", "bogus", "forged-ticket-0123456789abcdef", "A".repeat(31), "A".repeat(33), `${"A".repeat(31)}=`, `${"A".repeat(31)}+`, "%00".repeat(11)];

describe("upgrades without a ticket of the right shape", () => {
  it("are refused with 401 unauthorized and bring no room or inbox object into being", async () => {
    const room = uniqueRoom("never");
    const inbox = uniqueUser("never");
    for (const t of [null, ...MALFORMED]) {
      const q = t === null ? "" : `ticket=${t}`;
      for (const path of [`/api/rooms/${room}/ws?${q}`, `/api/inbox/ws?user=${inbox}&${q}`]) {
        const res = await upgrade(path);
        expect(res.status, `${path}`).toBe(401);
        expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "unauthorized", message: expect.any(String) });
      }
    }
    expect(await known(env.ROOMS, room)).toBe(false);
    expect(await known(env.INBOXES, inbox)).toBe(false);
  });

  it("still reach the object with a well-formed ticket, which the object refuses or spends", async () => {
    const alice = await user(uniqueUser("edge"));
    const room = uniqueRoom("edge");
    expect((await alice.createRoom(room)).status).toBe(201);
    const wellFormedUnknown = await upgrade(`/api/rooms/${room}/ws?ticket=${"A".repeat(32)}`);
    expect(wellFormedUnknown.status).toBe(401);
    await wellFormedUnknown.body?.cancel();
    const ticket = await api<{ url: string; ticket: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: alice.token });
    expect(ticket.body.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const socket = socketOf(await upgrade(ticket.body.url));
    socket.send({ type: "hello", protocol: 1 });
    expect((await socket.waitFor((f) => f.type === "live" || f.type === "error")).type).toBe("live");
    socket.close();
  });
});

describe("x-partykit-* headers from clients", () => {
  it("are dropped by the Worker: a hostile x-partykit-props does not reach the room", async () => {
    const alice = await user(uniqueUser("pk"));
    const room = uniqueRoom("pk");
    expect((await alice.createRoom(room)).status).toBe(201);
    const ticket = await api<{ url: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: alice.token });
    const res = await upgrade(ticket.body.url, { headers: { "x-partykit-props": "{ not json", "X-PartyKit-Room": "someone-else" } });
    const socket = socketOf(res);
    socket.send({ type: "hello", protocol: 1 });
    const first = await socket.waitFor((f) => f.type === "live" || f.type === "error");
    expect(first.type).toBe("live");
    expect(socket.closed).toBeNull();
    socket.close();
  });
});

describe("an upgrade that fails inside the room", () => {
  it("answers a code and a message, never the error's stack", async () => {
    const alice = await user(uniqueUser("stack"));
    const room = uniqueRoom("stack");
    expect((await alice.createRoom(room)).status).toBe(201);
    const stub = env.ROOMS.getByName(room);
    const ticket = await stub.connectTicket(alice.userId, null);
    if (!ticket.ok) throw new Error(JSON.stringify(ticket.error));
    // Straight to the object (as if the Worker had let the header through): partyserver's
    // setup throws on props that are not JSON.
    const res = await stub.fetch(`${BASE}/api/rooms/${room}/ws?ticket=${ticket.value.ticket}`, { headers: { Upgrade: "websocket", "x-partykit-props": "{ not json" } });
    const received: string[] = [];
    if (res.webSocket) {
      res.webSocket.accept();
      await new Promise<void>((resolve) => {
        res.webSocket!.addEventListener("message", (e) => received.push(String(e.data)));
        res.webSocket!.addEventListener("close", () => resolve());
      });
    } else {
      received.push(await res.text());
    }
    expect(received.join("\n")).not.toMatch(/\bat\b.*\(|SyntaxError|\.js:\d+/);
    expect(res.status).toBe(500);
    expect(JSON.parse(received[0]!)).toEqual({ error: { code: "internal", message: expect.any(String) } });
    // The room is fine, and the user's socket lease was given back: a normal connect works.
    const again = await api<{ url: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: alice.token });
    const socket = socketOf(await upgrade(again.body.url));
    socket.send({ type: "hello", protocol: 1 });
    expect((await socket.waitFor((f) => f.type === "live" || f.type === "error")).type).toBe("live");
    socket.close();
  });
});

describe("the per-IP upgrade limit", () => {
  it("counts every address of an IPv6 /64 as one client", async () => {
    await freshMinute(45_000);
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const room = uniqueRoom("v6");
    let refusedAt = -1;
    for (let i = 0; i < 130 && refusedAt < 0; i++) {
      // A fresh address of the same /64 for every attempt.
      const ip = `${prefix}:${(i + 1).toString(16)}:${(i * 7).toString(16)}::${(i + 3).toString(16)}`;
      const res = await SELF.fetch(`${BASE}/api/rooms/${room}/ws?ticket=bogus-${i}`, { headers: { Upgrade: "websocket", "CF-Connecting-IP": ip } });
      await res.body?.cancel();
      if (res.status === 429) refusedAt = i;
      else expect(res.status).toBe(401);
    }
    expect(refusedAt).toBeGreaterThanOrEqual(60);
    // The next /64 is another client.
    const other = await SELF.fetch(`${BASE}/api/rooms/${room}/ws?ticket=bogus`, { headers: { Upgrade: "websocket", "CF-Connecting-IP": `2001:db8:ffff:${Math.floor(Math.random() * 0xffff).toString(16)}::1` } });
    expect(other.status).toBe(401);
  });
});

describe("HSTS on the Worker's answers", () => {
  it("is sent over https and not over plain http", async () => {
    const https = await SELF.fetch("https://chat.test/api/health");
    expect(https.headers.get("strict-transport-security")).toMatch(/^max-age=\d{8,}/);
    const http = await SELF.fetch("http://chat.test/api/health");
    expect(http.headers.get("strict-transport-security")).toBeNull();
    await Promise.all([https.body?.cancel(), http.body?.cancel()]);
  });
});
