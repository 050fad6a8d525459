/**
 * Connect tickets: who gets one, and the upgrade that spends it (once, only
 * for its room, only before it expires, only for its user, only while they
 * are a member).
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { ISO_MS, errorOf, socketOf, uniqueRoom, upgrade, user } from "../helpers";
import { roomOf as roomWith } from "./helpers/rooms";
import { type AckFrame, ticket } from "./helpers/sockets";

const roomOf = (...names: string[]) => roomWith("ws", ...names);

describe("POST /api/rooms/{roomId}/connect-ticket", () => {
  it("gives a member a single-use ticket, the socket url and its expiry about a minute ahead", async () => {
    const { room, users } = await roomOf("alice");
    const body = await ticket(users[0]!, room);
    expect(body.ticket.length).toBeGreaterThanOrEqual(16);
    expect(body.url).toBe(`/api/rooms/${room}/ws?ticket=${encodeURIComponent(body.ticket)}`);
    expect(body.expiresTs).toMatch(ISO_MS);
    const ttl = Date.parse(body.expiresTs) - Date.now();
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(61_000);
  });

  it("answers 403 not_member to a non-member and 404 room_not_found for an unknown room", async () => {
    const { room } = await roomOf("alice");
    const mallory = await user("mallory");
    expect(errorOf(await mallory.call("POST", `/api/rooms/${room}/connect-ticket`))).toEqual({ status: 403, code: "not_member", hasMessage: true });
    expect(errorOf(await mallory.call("POST", `/api/rooms/${uniqueRoom("missing")}/connect-ticket`)).code).toBe("room_not_found");
  });
});

describe("spending a ticket on the upgrade", () => {
  it("accepts a ticket once: a second upgrade with the same url is 401 without a socket", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const first = await upgrade(url);
    expect(first.status).toBe(101);
    const socket = socketOf(first);
    const second = await upgrade(url);
    expect(second.webSocket).toBeNull();
    expect(errorOf({ status: second.status, body: await second.json(), headers: second.headers })).toEqual({
      status: 401,
      code: "unauthorized",
      hasMessage: true,
    });
    socket.close();
  });

  it.each([
    ["an unknown ticket", "?ticket=not-a-real-ticket"],
    ["an empty ticket", "?ticket="],
    ["no ticket", ""],
  ])("refuses %s with 401 before upgrading", async (_name, query) => {
    const { room } = await roomOf("alice");
    const res = await upgrade(`/api/rooms/${room}/ws${query}`);
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("binds a ticket to its room: it does not open another room's socket", async () => {
    const { room, users } = await roomOf("alice");
    const other = uniqueRoom("ws");
    await users[0]!.createRoom(other);
    const { ticket: t } = await ticket(users[0]!, room);
    const res = await upgrade(`/api/rooms/${other}/ws?ticket=${encodeURIComponent(t)}`);
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
  });

  it("refuses an expired ticket with 401", async () => {
    const { room, users } = await roomOf("alice");
    const { ticket: t, url } = await ticket(users[0]!, room);
    await runInDurableObject(env.ROOMS.getByName(room), (_instance: Room, state) => {
      state.storage.sql.exec("UPDATE tickets SET expires_ts = ? WHERE ticket = ?", Date.now() - 1, t);
    });
    const res = await upgrade(url);
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
  });

  it("lets only one of two concurrent upgrades spend the same ticket", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const results = await Promise.all([upgrade(url), upgrade(url)]);
    expect(results.map((r) => r.status).sort()).toEqual([101, 401]);
    for (const r of results) if (r.webSocket) socketOf(r).close();
  });

  it("ties the socket to the ticket's user, whatever headers the client sends", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const { url } = await ticket(users[0]!, room);
    const res = await SELF.fetch(`https://localhost${url}`, { headers: { Upgrade: "websocket", "x-chat-user": "bob" } });
    const socket = socketOf(res);
    socket.send({ type: "send", reqId: "who", content: "who am I?" });
    const ack = await socket.waitFor((f): f is AckFrame => f.type === "ack");
    expect(ack.message.sender).toBe("alice");
    socket.close();
  });

  it("refuses a ticket whose user left the room before using it with 403 not_member", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const bob = users[1]!;
    const { url } = await ticket(bob, room);
    await bob.leave(room);
    const res = await upgrade(url);
    expect(res.status).toBe(403);
    expect(res.webSocket).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_member");
  });
});
