/** The room WebSocket: tickets, origins, hello/live/resume, live delivery, frames and closes. */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message, ServerFrame } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import {
  ISO_MS,
  type TestSocket,
  api,
  connect,
  errorOf,
  framesOf,
  messageEvents,
  sleep,
  socketOf,
  uniqueRoom,
  upgrade,
  user,
} from "../helpers";
import { storeNow } from "./store-now";

type User = Awaited<ReturnType<typeof user>>;

async function roomOf(...names: string[]) {
  const users = await Promise.all(names.map((n) => user(n)));
  const room = uniqueRoom("ws");
  expect((await users[0]!.createRoom(room)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(room)).status).toBe(200);
  return { room, users };
}

async function ticket(u: User, room: string) {
  const res = await api<{ ticket: string; url: string; expiresTs: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: u.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const isEvent = (f: ServerFrame): f is Extract<ServerFrame, { type: "event" }> => f.type === "event";
const isMessageEvent = (content: string) => (f: ServerFrame) => isEvent(f) && f.event.type === "message" && f.event.message.content === content;

/** Waits until the socket has received `n` message events, then checks no more arrive. */
async function messagesOn(socket: TestSocket, n: number): Promise<Message[]> {
  await socket.waitFor(() => messageEvents(socket).length >= n);
  await socket.sync();
  return messageEvents(socket);
}

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

describe("WebSocket upgrade", () => {
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

  it("refuses an Origin outside the allow-list with 403 forbidden, without spending the ticket", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const res = await upgrade(url, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.webSocket).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    // The refusal happened before the room saw the ticket.
    const retry = await upgrade(url, { origin: "https://chat.example" });
    expect(retry.status).toBe(101);
    socketOf(retry).close();
  });

  it("accepts an allowed Origin and a request without Origin", async () => {
    const { room, users } = await roomOf("alice");
    const withOrigin = await connect(users[0]!.token, room, { origin: "https://chat.example" });
    expect(framesOf(withOrigin, "live")).toHaveLength(1);
    const withoutOrigin = await connect(users[0]!.token, room);
    expect(framesOf(withoutOrigin, "live")).toHaveLength(1);
    withOrigin.close();
    withoutOrigin.close();
  });

  it("answers a plain GET of the socket url with 400 invalid_request", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const res = await api("GET", url);
    expect(errorOf(res).code).toBe("invalid_request");
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
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch(`https://chat.test${url}`, { headers: { Upgrade: "websocket", "x-chat-user": "bob" } });
    const socket = socketOf(res);
    socket.send({ type: "send", reqId: "who", content: "who am I?" });
    const ack = await socket.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack");
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

describe("hello and live delivery", () => {
  it("answers hello with live at the room's current epoch and seq", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[0]!.token, room);
    const live = framesOf(socket, "live")[0]!;
    const page = await users[0]!.history(room);
    expect(live).toEqual({ type: "live", roomId: room, epoch: page.body.epoch, seq: 2 });
    socket.close();
  });

  it("delivers messages sent over HTTP to every live socket of every member, once each and in seq order", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const sockets = [
      await connect(alice.token, room),
      await connect(alice.token, room), // a second device
      await connect(bob.token, room),
      await connect(carol.token, room),
    ];
    const sent: Message[] = [];
    for (let i = 0; i < 6; i++) sent.push((await (i % 2 ? bob : carol).send(room, `live-${i}`)).body);
    for (const socket of sockets) {
      const got = await messagesOn(socket, sent.length);
      expect(got).toEqual(sent);
      const seqs = got.map((m) => m.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      for (const f of framesOf(socket, "event")) expect(f.roomId).toBe(room);
    }
    for (const socket of sockets) socket.close();
  });

  it("sends nothing to a socket that has not said hello", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const quiet = await connect(users[0]!.token, room, { hello: false });
    await users[1]!.send(room, "unheard");
    await quiet.sync();
    expect(framesOf(quiet, "event")).toEqual([]);
    quiet.close();
  });

  it("tells live sockets when members join and leave", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const bob = await user("bob");
    await bob.join(room);
    const joined = await socket.waitFor((f) => isEvent(f) && f.event.type === "member_joined");
    expect(joined).toMatchObject({ event: { type: "member_joined", seq: 2, userId: "bob", role: "member" } });
    await bob.leave(room);
    const left = await socket.waitFor((f) => isEvent(f) && f.event.type === "member_left");
    expect(left).toMatchObject({ event: { type: "member_left", seq: 3, userId: "bob" } });
    socket.close();
  });

  it("does not deliver a message stored before a user joined live, but shows it in their history", async () => {
    const { room, users } = await roomOf("alice");
    await users[0]!.send(room, "before bob");
    const bob = await user("bob");
    await bob.join(room);
    const socket = await connect(bob.token, room);
    await users[0]!.send(room, "after bob");
    const got = await messagesOn(socket, 1);
    expect(got.map((m) => m.content)).toEqual(["after bob"]);
    const history = await bob.history(room);
    expect(history.body.messages.map((m: Message) => m.content)).toEqual(["before bob", "after bob"]);
    socket.close();
  });

  it("keeps delivering after the room object is evicted (hibernation)", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[0]!.token, room);
    await evictDurableObject(env.ROOMS.getByName(room));
    const sent = await users[1]!.send(room, "after eviction");
    expect(sent.status).toBe(201);
    await socket.waitFor(isMessageEvent("after eviction"));
    // Frames from the socket are still tied to its user.
    socket.send({ type: "send", reqId: "r-evicted", content: "from a woken socket" });
    const ack = await socket.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack" && f.reqId === "r-evicted");
    expect(ack.message.sender).toBe("alice");
    socket.close();
  });
});

describe("frames from the client", () => {
  it("acknowledges a send frame with the stored message and broadcasts it to every live socket, the sender's included", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const alice = await connect(users[0]!.token, room);
    const bob = await connect(users[1]!.token, room);
    alice.send({ type: "send", reqId: "r1", content: "over the socket", clientId: "ws-c1" });
    const ack = await alice.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack");
    expect(ack.reqId).toBe("r1");
    expect(ack.message).toMatchObject({ roomId: room, sender: "alice", content: "over the socket", clientId: "ws-c1" });
    expect(ack.message.ts).toMatch(ISO_MS);
    expect(await messagesOn(bob, 1)).toEqual([ack.message]);
    expect(await messagesOn(alice, 1)).toEqual([ack.message]);
    const history = await users[1]!.history(room);
    expect(history.body.messages).toEqual([ack.message]);
    alice.close();
    bob.close();
  });

  it("answers a repeated clientId with the original message and broadcasts it only once", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const alice = await connect(users[0]!.token, room);
    const bob = await connect(users[1]!.token, room);
    alice.send({ type: "send", reqId: "a", content: "once", clientId: "dup" });
    alice.send({ type: "send", reqId: "b", content: "once", clientId: "dup" });
    const first = await alice.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack" && f.reqId === "a");
    const second = await alice.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack" && f.reqId === "b");
    expect(second.message).toEqual(first.message);
    await alice.sync();
    await bob.sync();
    expect(messageEvents(bob)).toHaveLength(1);
    expect(messageEvents(alice)).toHaveLength(1);
    alice.close();
    bob.close();
  });

  it("answers ping with pong carrying the reqId", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    socket.send({ type: "ping", reqId: "p1" });
    expect(await socket.waitFor((f) => f.type === "pong")).toEqual({ type: "pong", reqId: "p1" });
    socket.close();
  });

  it("answers the text heartbeat 'ping' with 'pong'", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    socket.send("ping");
    await socket.waitForRaw("pong");
    socket.close();
  });

  it.each<[string, string | ArrayBuffer, string | null]>([
    ["text that is not JSON", "{nope", null],
    ["a JSON value that is not an object", "42", null],
    ["an unknown frame type", JSON.stringify({ type: "shout", reqId: "u1" }), "u1"],
    ["a send frame without content", JSON.stringify({ type: "send", reqId: "s1" }), "s1"],
    ["a send frame with non-string content", JSON.stringify({ type: "send", reqId: "s2", content: 5 }), "s2"],
    ["a send frame without reqId", JSON.stringify({ type: "send", content: "hi" }), null],
    ["a binary frame", new Uint8Array([123, 125]).buffer, null],
  ])("answers %s with an invalid_request error and stays usable", async (_name, frame, reqId) => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    socket.ws.send(frame);
    const error = await socket.waitFor((f): f is Extract<ServerFrame, { type: "error" }> => f.type === "error");
    expect(error.reqId).toBe(reqId);
    expect(error.error.code).toBe("invalid_request");
    expect(error.error.message).toEqual(expect.any(String));
    // Still open and working.
    socket.send({ type: "send", reqId: "after", content: "still here" });
    await socket.waitFor((f) => f.type === "ack" && f.reqId === "after");
    expect(socket.closed).toBeNull();
    expect((await users[0]!.history(room)).body.messages.map((m: Message) => m.content)).toEqual(["still here"]);
    socket.close();
  });

  it("answers a send frame over the size limit with content_too_large for its reqId", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    socket.send({ type: "send", reqId: "big", content: "é".repeat(8193) });
    const error = await socket.waitFor((f): f is Extract<ServerFrame, { type: "error" }> => f.type === "error");
    expect(error).toMatchObject({ reqId: "big", error: { code: "content_too_large" } });
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("accepts a send frame whose content is at the byte limit even when JSON escaping makes it six times longer", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const content = "\u0001".repeat(16384); // 16384 UTF-8 bytes, written as \u0001 in JSON
    const frame = JSON.stringify({ type: "send", reqId: "escaped", content });
    expect(frame.length).toBeGreaterThan(16384 * 6);
    socket.send(frame);
    const ack = await socket.waitFor((f): f is Extract<ServerFrame, { type: "ack" }> => f.type === "ack" && f.reqId === "escaped");
    expect(ack.message.content).toBe(content);
    socket.close();
  });

  it("closes the socket with 1009 when a frame is larger than the limit", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const limit = 16384 * 6 + 4096;
    socket.send(JSON.stringify({ type: "send", reqId: "huge", content: "x".repeat(limit) }));
    const closed = await socket.waitClosed();
    expect(closed.code).toBe(1009);
    expect(framesOf(socket, "ack")).toEqual([]);
    expect((await users[0]!.history(room)).body.messages).toEqual([]);
  });

  it("rejects a send frame from a user who is no longer a member with not_member", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[1]!.token, room);
    // Take bob's membership away without the leave path (which would also close his sockets),
    // to show that every frame is checked against the current membership.
    await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      instance.core.members.remove("bob");
    });
    socket.send({ type: "send", reqId: "gone", content: "am I still here?" });
    const error = await socket.waitFor((f): f is Extract<ServerFrame, { type: "error" }> => f.type === "error");
    expect(error).toMatchObject({ reqId: "gone", error: { code: "not_member" } });
    expect((await users[0]!.history(room)).body.messages).toEqual([]);
    socket.close();
  });
});

describe("leaving closes the leaver's sockets", () => {
  it("closes every socket of a user who leaves with 4003, and tells the others", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const bobPhone = await connect(users[1]!.token, room);
    const bobLaptop = await connect(users[1]!.token, room, { hello: false });
    const alice = await connect(users[0]!.token, room);
    expect((await users[1]!.leave(room)).body.left).toBe(true);
    expect((await bobPhone.waitClosed()).code).toBe(4003);
    expect((await bobLaptop.waitClosed()).code).toBe(4003);
    await alice.waitFor((f) => isEvent(f) && f.event.type === "member_left" && f.event.userId === "bob");
    // Alice's socket is unaffected.
    await users[0]!.send(room, "bob is gone");
    await alice.waitFor(isMessageEvent("bob is gone"));
    expect(alice.closed).toBeNull();
    alice.close();
  });
});

describe("hello: protocol and resume", () => {
  it("answers hello with an unsupported protocol with an error, then closes with 4400", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room, { hello: false });
    socket.send({ type: "hello", protocol: 2 });
    const error = await socket.waitFor((f): f is Extract<ServerFrame, { type: "error" }> => f.type === "error");
    expect(error.error.code).toBe("invalid_request");
    expect((await socket.waitClosed()).code).toBe(4400);
    expect(framesOf(socket, "live")).toEqual([]);
  });

  it("replays the events after the given position, in order, then goes live", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const first = await connect(alice.token, room);
    const live = framesOf(first, "live")[0]!;
    first.close();
    // Missed while away: two messages, a join, a leave.
    await bob.send(room, "missed 1");
    const carol = await user("carol");
    await carol.join(room);
    await bob.send(room, "missed 2");
    await carol.leave(room);

    const resumed = await connect(alice.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    const events = framesOf(resumed, "event").map((f) => f.event);
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["message", 3],
      ["member_joined", 4],
      ["message", 5],
      ["member_left", 6],
    ]);
    expect(events[0]).toMatchObject({ message: { content: "missed 1", sender: "bob" } });
    const liveAgain = framesOf(resumed, "live")[0]!;
    expect(liveAgain).toMatchObject({ epoch: live.epoch, seq: 6 });
    // The live frame comes after the replay.
    expect(resumed.frames.findIndex((f) => f.type === "live")).toBe(resumed.frames.length - 1);
    // And live delivery continues after it.
    await bob.send(room, "now live");
    await resumed.waitFor(isMessageEvent("now live"));
    resumed.close();
  });

  it("replays nothing when the client is already at the head", async () => {
    const { room, users } = await roomOf("alice");
    const first = await connect(users[0]!.token, room);
    const live = framesOf(first, "live")[0]!;
    first.close();
    const again = await connect(users[0]!.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    expect(again.frames.map((f) => f.type)).toEqual(["live"]);
    again.close();
  });

  it("answers a position from another epoch with resync epoch_changed", async () => {
    const { room, users } = await roomOf("alice");
    await users[0]!.send(room, "something");
    const socket = await connect(users[0]!.token, room, { after: { epoch: "some-other-epoch", seq: 1 } });
    const resync = framesOf(socket, "resync")[0]!;
    const page = await users[0]!.history(room);
    expect(resync).toMatchObject({ type: "resync", roomId: room, reason: "epoch_changed", epoch: page.body.epoch, seq: 2 });
    expect(framesOf(socket, "event")).toEqual([]);
    socket.close();
  });

  it("answers a position ahead of the room's head with resync", async () => {
    const { room, users } = await roomOf("alice");
    const first = await connect(users[0]!.token, room);
    const live = framesOf(first, "live")[0]!;
    first.close();
    const socket = await connect(users[0]!.token, room, { after: { epoch: live.epoch, seq: live.seq + 10 } });
    expect(framesOf(socket, "resync")[0]).toMatchObject({ reason: "epoch_changed", seq: live.seq });
    socket.close();
  });

  it("replays up to the replay cap, and answers a position further behind with resync too_far_behind", async () => {
    const { room, users } = await roomOf("alice");
    // The cap is a deployment setting (REPLAY_CAP); read the one this room runs with.
    const { cap, epoch } = await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      const cap = instance.core.limits.replayCap;
      for (let i = 0; i < cap; i++) storeNow(instance.core, "alice", { content: `bulk ${i}` });
      return { cap, epoch: instance.core.epoch };
    });
    // head is cap + 1 (the creation join is seq 1).
    const atCap = await connect(users[0]!.token, room, { after: { epoch, seq: 1 } });
    const replayed = framesOf(atCap, "event");
    expect(replayed).toHaveLength(cap);
    expect(replayed.map((f) => f.event.seq)).toEqual(Array.from({ length: cap }, (_, i) => i + 2));
    expect(framesOf(atCap, "live")[0]).toMatchObject({ seq: cap + 1 });
    atCap.close();

    const overCap = await connect(users[0]!.token, room, { after: { epoch, seq: 0 } });
    expect(framesOf(overCap, "resync")[0]).toMatchObject({ reason: "too_far_behind", epoch, seq: cap + 1 });
    expect(framesOf(overCap, "event")).toEqual([]);
    overCap.close();
  });

  it("keeps a socket that got resync live afterwards", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[0]!.token, room, { after: { epoch: "stale", seq: 0 } });
    await users[1]!.send(room, "after resync");
    await socket.waitFor(isMessageEvent("after resync"));
    socket.close();
  });
});

describe("timing", () => {
  it("does not hold a socket's frames back: an ack arrives promptly", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const started = Date.now();
    socket.send({ type: "send", reqId: "t", content: "quick" });
    await socket.waitFor((f) => f.type === "ack", 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(0);
    socket.close();
  });
});
