/**
 * Abuse limits in the room: the per-user, per-room send bucket (over HTTP and
 * over the WebSocket, with the same figures), the member cap, kick and ban
 * (sockets closed at once, no reads or sends after), unban, who may moderate
 * whom, roles, and sockets that do not outlive the token they were opened with.
 *
 * The test Worker runs with huge send limits; each test lowers them for its
 * own room object only.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import { TEST_AUTH_SECRET, api, connect, errorOf, sleep, uniqueRoom, upgrade, user } from "../helpers";

type User = Awaited<ReturnType<typeof user>>;
type ErrorFrame = Extract<ServerFrame, { type: "error" }>;
type AckFrame = Extract<ServerFrame, { type: "ack" }>;

const stubOf = (room: string) => env.ROOMS.getByName(room);

/**
 * Lowers the room's send bucket. The refill is slow (1 a second by default)
 * so that "the 21st send is refused" does not depend on how fast the test
 * machine gets its requests in.
 */
async function limitSends(room: string, perSecond = 1, burst = 20): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const core = instance.core as unknown as { limits: Record<string, number>; sendBuckets: unknown };
    core.limits.sendPerSecond = perSecond;
    core.limits.sendBurst = burst;
    core.sendBuckets = new (instance.core.sendBuckets.constructor as new (c: { perSecond: number; burst: number }) => unknown)({ perSecond, burst });
  });
}

async function limitMembers(room: string, maxMembers: number): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    (instance.core.limits as unknown as Record<string, number>).maxMembers = maxMembers;
  });
}

async function roomOf(...names: string[]) {
  const users = await Promise.all(names.map((n) => user(n)));
  const room = uniqueRoom("limits");
  expect((await users[0]!.createRoom(room)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(room)).status).toBe(200);
  return { room, users };
}

/** Takes `n` sends from the user's bucket through the room's RPC (fast: no HTTP in between). */
async function burst(userId: string, room: string, n: number, prefix = "b") {
  const stub = stubOf(room);
  const results = [];
  for (let i = 0; i < n; i++) results.push(await stub.sendMessage(userId, { content: `${prefix}-${i}` }));
  return results;
}

/**
 * Sends over HTTP until one is refused (the bucket refills slowly, so it
 * takes one or two); `accepted` counts those stored before the refusal.
 */
async function sendUntilRefused(u: User, room: string, max = 5) {
  let accepted = 0;
  for (let i = 0; i < max; i++) {
    const res = await u.send(room, `extra-${i}`);
    if (res.status !== 201) return Object.assign(res, { accepted });
    accepted++;
  }
  throw new Error(`no send refused in ${max} tries`);
}

describe("send rate limit: a token bucket per user per room", () => {
  it("allows a burst of 20, then answers 429 rate_limited with retryAfter, Retry-After and X-RateLimit-* headers", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const started = Date.now();
    const results = await burst(alice.userId, room, 25);
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = results.filter((r) => r.ok).length;
    // The first 20 always pass; at most what refilled meanwhile (1/s) passes after them.
    expect(results.slice(0, 20).every((r) => r.ok)).toBe(true);
    expect(allowed).toBeLessThanOrEqual(20 + Math.ceil(elapsedS));
    for (const refused of results.filter((r) => !r.ok)) expect(!refused.ok && refused.error.code).toBe("rate_limited");

    const res = await sendUntilRefused(alice, room);
    expect(errorOf(res)).toEqual({ status: 429, code: "rate_limited", hasMessage: true });
    const error = res.body.error;
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(1);
    expect(error.limit).toBe(20);
    expect(error.remaining).toBe(0);
    expect(error.reset).toBeGreaterThan(0);
    expect(error.reset).toBeLessThanOrEqual(20);
    expect(res.headers.get("Retry-After")).toBe(String(Math.max(1, Math.ceil(error.retryAfter))));
    expect(res.headers.get("X-RateLimit-Limit")).toBe("20");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(res.headers.get("X-RateLimit-Reset")).toBe(String(error.reset));
    // A refused send stores nothing.
    const page = await alice.history(room, "limit=200");
    expect(page.body.messages.length).toBe(allowed + res.accepted);
  });

  it("sends the same figures in the WebSocket error frame, naming the request", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const socket = await connect(alice.token, room);
    for (let i = 0; i < 25; i++) socket.send({ type: "send", reqId: `r${i}`, content: `ws-${i}` });
    await socket.sync();
    const acks = socket.frames.filter((f): f is AckFrame => f.type === "ack");
    const errors = socket.frames.filter((f): f is ErrorFrame => f.type === "error");
    expect(acks.length).toBeGreaterThanOrEqual(20);
    expect(acks.slice(0, 20).map((a) => a.reqId)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(acks.length + errors.length).toBe(25);
    expect(errors.length).toBeGreaterThan(0);
    for (const frame of errors) {
      expect(frame.reqId).toMatch(/^r\d+$/);
      expect(Number(frame.reqId!.slice(1))).toBeGreaterThanOrEqual(20);
      expect(frame.error).toMatchObject({ code: "rate_limited", limit: 20, remaining: 0 });
      expect(frame.error.retryAfter).toBeGreaterThan(0);
      expect(frame.error.retryAfter).toBeLessThanOrEqual(1);
      expect(frame.error.reset).toBeGreaterThan(0);
    }
    socket.close();
  });

  it("refills: after waiting retryAfter the next send is stored", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room, 2, 20);
    await burst(alice.userId, room, 20);
    const refused = await sendUntilRefused(alice, room);
    expect(refused.status).toBe(429);
    await sleep(refused.body.error.retryAfter * 1000 + 100);
    const res = await alice.send(room, "after the wait");
    expect(res.status).toBe(201);
  });

  it("limits each user on their own: others in the room, and the same user elsewhere, are unaffected", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    await limitSends(room);
    const other = uniqueRoom("limits");
    expect((await alice.createRoom(other)).status).toBe(201);
    await limitSends(other);
    await burst(alice.userId, room, 20);
    expect((await sendUntilRefused(alice, room)).status).toBe(429);
    expect((await bob.send(room, "bob is fine")).status).toBe(201);
    expect((await alice.send(other, "alice is fine here")).status).toBe(201);
    // And bob's bucket is his own full one.
    const bobs = await burst(bob.userId, room, 19);
    expect(bobs.every((r) => r.ok)).toBe(true);
  });

  it("does not count retries of a stored clientId: they are answered with the original even with an empty bucket", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    await limitSends(room);
    const stub = stubOf(room);
    const originals = [];
    for (let i = 0; i < 20; i++) {
      const result = await stub.sendMessage(alice.userId, { content: `once-${i}`, clientId: `c-${i}` });
      expect(result.ok).toBe(true);
      originals.push(result.ok ? result.value : null);
    }
    // The bucket is empty: retries of every stored clientId still answer at once, over HTTP too.
    for (let i = 0; i < 20; i++) {
      const retry = await stub.sendMessage(alice.userId, { content: `once-${i}`, clientId: `c-${i}` });
      expect(retry.ok && retry.value.id).toBe(originals[i]!.id);
    }
    const viaHttp = await alice.send(room, "once-3", "c-3");
    expect(viaHttp.status).toBe(201);
    expect(viaHttp.body.id).toBe(originals[3]!.id);
    // While a new clientId is refused (retry until the slow refill is spent).
    let refused = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await alice.send(room, "new", `new-${i}`);
      if (res.status === 429) refused = res;
    }
    expect(refused && errorOf(refused).code).toBe("rate_limited");
    const page = await alice.history(room, "limit=200");
    expect(page.body.messages.filter((m: { clientId?: string }) => m.clientId?.startsWith("c-")).length).toBe(20);
  });
});

describe("member cap", () => {
  it("refuses joins past the cap with 403 forbidden; a slot freed by leaving can be taken", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice] = users as [User, User];
    await limitMembers(room, 3);
    const carol = await user("carol");
    const dave = await user("dave");
    expect((await carol.join(room)).status).toBe(200);
    const full = await dave.join(room);
    expect(errorOf(full)).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect(full.body.error.message).toMatch(/full/);
    // Members already in are not counted twice.
    expect((await carol.join(room)).body).toEqual({ roomId: room, joined: false });
    expect((await carol.leave(room)).status).toBe(200);
    expect((await dave.join(room)).status).toBe(200);
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual(["alice", "bob", "dave"]);
  });
});

describe("kick and ban", () => {
  it("kick closes every socket of the target at once with 4003; they can no longer read, send or connect; they may join again", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const phone = await connect(bob.token, room);
    const laptop = await connect(bob.token, room);
    const watcher = await connect(alice.token, room);
    const res = await alice.call("POST", `/api/rooms/${room}/members/bob/kick`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: room, userId: "bob", action: "kicked" });
    expect((await phone.waitClosed(2000)).code).toBe(4003);
    expect((await laptop.waitClosed(2000)).code).toBe(4003);
    // The others see the member leave and stay connected.
    await watcher.waitFor((f) => f.type === "event" && f.event.type === "member_left" && f.event.userId === "bob");
    expect(watcher.closed).toBeNull();

    expect(errorOf(await bob.history(room)).code).toBe("not_member");
    expect(errorOf(await bob.send(room, "still here?")).code).toBe("not_member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/connect-ticket`)).code).toBe("not_member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/read`, { seq: 1 })).code).toBe("not_member");
    // A kick is not a ban.
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: true });
    watcher.close();
  });

  it("ban closes the target's sockets with 4003 and keeps them out until unbanned", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const socket = await connect(bob.token, room);
    expect((await alice.call("POST", `/api/rooms/${room}/members/bob/ban`)).body.action).toBe("banned");
    expect((await socket.waitClosed(2000)).code).toBe(4003);
    expect(errorOf(await bob.history(room)).code).toBe("not_member");
    expect(errorOf(await bob.send(room, "let me in")).code).toBe("not_member");
    const rejoin = await bob.join(room);
    expect(errorOf(rejoin)).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect(rejoin.body.error.message).toMatch(/banned/);
    // A ban also holds against someone who was not (yet) a member.
    const carol = await user("carol");
    expect((await alice.call("POST", `/api/rooms/${room}/members/carol/ban`)).status).toBe(200);
    expect(errorOf(await carol.join(room)).code).toBe("forbidden");

    expect((await alice.call("POST", `/api/rooms/${room}/members/bob/unban`)).body).toEqual({ roomId: room, userId: "bob", action: "unbanned" });
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: true });
    expect((await bob.send(room, "back")).status).toBe(201);
  });

  it("stops a kicked user's frames at once: a send racing the kick is either stored before it or never", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const socket = await connect(bob.token, room);
    for (let i = 0; i < 20; i++) socket.send({ type: "send", reqId: `k${i}`, content: `racing-${i}` });
    const kick = await alice.call("POST", `/api/rooms/${room}/members/bob/kick`);
    expect(kick.status).toBe(200);
    await socket.waitClosed(2000);
    const acked = socket.frames.filter((f): f is AckFrame => f.type === "ack").map((f) => f.message.id);
    const forward = await alice.history(room, "afterSeq=0&limit=200");
    const stored: Array<{ id: string; seq: number }> = forward.body.messages.filter((m: { sender: string }) => m.sender === "bob");
    // Exactly what was acknowledged is stored, and all of it before bob left.
    expect(stored.map((m) => m.id).sort()).toEqual([...acked].sort());
    const left = forward.body.events.find((e: { type: string; userId?: string }) => e.type === "member_left" && e.userId === "bob");
    expect(left).toBeDefined();
    for (const m of stored) expect(m.seq).toBeLessThan(left.seq);
  });
});

describe("who may moderate whom", () => {
  it("room admins moderate plain members only; owners anyone but themselves; plain members nobody", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol", "dave", "erin");
    const [alice, bob, , dave] = users as [User, User, User, User, User];
    for (const id of ["bob", "carol"]) {
      expect((await alice.call("PUT", `/api/rooms/${room}/members/${id}/role`, { role: "admin" })).body).toEqual({
        roomId: room,
        userId: id,
        action: "role_changed",
        role: "admin",
      });
    }
    const act = (u: User, target: string, action: string) => u.call("POST", `/api/rooms/${room}/members/${target}/${action}`);
    // A room admin: not the owner, not another admin, not themselves.
    expect(errorOf(await act(bob, "alice", "kick")).code).toBe("forbidden");
    expect(errorOf(await act(bob, "carol", "ban")).code).toBe("forbidden");
    expect(errorOf(await act(bob, "bob", "kick")).code).toBe("invalid_request");
    // A plain member: nobody.
    expect(errorOf(await act(dave, "erin", "kick")).code).toBe("forbidden");
    expect(errorOf(await act(dave, "bob", "kick")).code).toBe("forbidden");
    // A room admin on a plain member: yes.
    expect((await act(bob, "dave", "kick")).status).toBe(200);
    expect((await act(bob, "erin", "ban")).status).toBe(200);
    expect((await act(bob, "erin", "unban")).status).toBe(200);
    // The owner on an admin: yes; on themselves: no.
    expect((await act(alice, "carol", "kick")).status).toBe(200);
    expect(errorOf(await act(alice, "alice", "ban")).code).toBe("invalid_request");
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { userId: string; role: string }) => `${m.userId}:${m.role}`)).toEqual(["alice:owner", "bob:admin"]);
  });

  it("only the owner sets roles, never on the owner; a demoted admin loses their powers at once", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const setRole = (u: User, target: string, role: string) => u.call("PUT", `/api/rooms/${room}/members/${target}/role`, { role });
    expect((await setRole(alice, "bob", "admin")).status).toBe(200);
    // An admin may not make admins, nor demote one.
    expect(errorOf(await setRole(bob, "carol", "admin")).code).toBe("forbidden");
    expect(errorOf(await setRole(carol, "bob", "member")).code).toBe("forbidden");
    // Nobody changes the owner's role, the owner included.
    expect(errorOf(await setRole(alice, "alice", "member")).code).toBe("forbidden");
    expect(errorOf(await setRole(bob, "alice", "member")).code).toBe("forbidden");
    // Only known roles, only members.
    expect(errorOf(await setRole(alice, "carol", "owner")).code).toBe("invalid_request");
    expect(errorOf(await setRole(alice, "nobody-here", "admin")).code).toBe("not_member");
    // Demoted: bob can no longer kick carol.
    expect((await setRole(alice, "bob", "member")).body.role).toBe("member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/members/carol/kick`)).code).toBe("forbidden");
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { role: string }) => m.role)).toEqual(["owner", "member", "member"]);
  });
});

describe("sockets do not outlive their token", () => {
  /** A member token that expires `seconds` from now, signed as the test Worker expects. */
  async function shortToken(userId: string, seconds: number): Promise<{ token: string; exp: number }> {
    const exp = Math.floor(Date.now() / 1000) + seconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
    return { token, exp: exp * 1000 };
  }

  it("closes a socket with 4401 at its first frame after the token expired", async () => {
    const { room } = await roomOf("alice", "bob");
    const { token, exp } = await shortToken("bob", 3);
    const socket = await connect(token, room);
    socket.send({ type: "send", reqId: "before", content: "while valid" });
    await socket.waitFor((f) => f.type === "ack" && f.reqId === "before");
    await sleep(Math.max(0, exp - Date.now()) + 200);
    if (!socket.closed) socket.send({ type: "send", reqId: "after", content: "too late" });
    expect((await socket.waitClosed(3000)).code).toBe(4401);
    expect(socket.frames.some((f) => f.type === "ack" && f.reqId === "after")).toBe(false);
    const alice = await user("alice");
    const page = await alice.history(room);
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual(["while valid"]);
  });

  it("closes an idle socket with 4401 when the room's alarm runs after the expiry", async () => {
    const { room } = await roomOf("alice", "bob");
    const { token, exp } = await shortToken("bob", 3);
    const socket = await connect(token, room);
    const alice = await user("alice");
    const other = await connect(alice.token, room);
    await sleep(Math.max(0, exp - Date.now()) + 200);
    // The alarm is set for the expiry; it may have run by itself already.
    await runDurableObjectAlarm(stubOf(room));
    expect((await socket.waitClosed(3000)).code).toBe(4401);
    // A socket opened with a long-lived token is untouched.
    await other.sync();
    expect(other.closed).toBeNull();
    other.close();
  });

  it("closes an inbox socket with 4401 once the token it was opened with has expired", async () => {
    const { token, exp } = await shortToken("inbox-expiry", 3);
    const ticket = await api<{ url: string }>("POST", "/api/inbox/connect-ticket", { token });
    expect(ticket.status).toBe(200);
    const res = await upgrade(ticket.body.url);
    expect(res.status).toBe(101);
    const socket = new InboxSocket(res);
    await sleep(Math.max(0, exp - Date.now()) + 200);
    // A frame after the expiry, and the inbox's alarm: either must end the socket.
    socket.send(JSON.stringify({ type: "ping", reqId: "after-expiry" }));
    await runDurableObjectAlarm(env.INBOXES.getByName("inbox-expiry"));
    expect((await socket.waitClosed(3000)).code).toBe(4401);
  });
});

/** An inbox socket: frames kept as text (the inbox protocol is not the room's). */
class InboxSocket {
  closed: { code: number } | null = null;
  readonly texts: string[] = [];
  readonly ws: WebSocket;
  constructor(res: Response) {
    this.ws = res.webSocket!;
    this.ws.accept();
    this.ws.addEventListener("message", (e) => this.texts.push(String(e.data)));
    this.ws.addEventListener("close", (e) => (this.closed = { code: e.code }));
  }
  send(text: string) {
    try {
      this.ws.send(text);
    } catch {
      // closed already
    }
  }
  async waitClosed(ms: number) {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    if (!this.closed) throw new Error(`inbox socket still open ${ms} ms after its token expired; it answered: ${JSON.stringify(this.texts.slice(-2))}`);
    return this.closed;
  }
}

describe("HTTP and WebSocket share one bucket", () => {
  it("sends over HTTP and over the socket draw from the same 20", async () => {
    const { room, users } = await roomOf("alice");
    const alice = users[0]!;
    // Almost no refill: however slow the ten HTTP sends, they leave ten tokens at most.
    await limitSends(room, 0.05, 20);
    const socket = await connect(alice.token, room);
    for (let i = 0; i < 10; i++) expect((await api("POST", `/api/rooms/${room}/messages`, { token: alice.token, body: { content: `h${i}` } })).status).toBe(201);
    for (let i = 0; i < 15; i++) socket.send({ type: "send", reqId: `s${i}`, content: `s${i}` });
    await socket.sync();
    const acks = socket.frames.filter((f) => f.type === "ack").length;
    const refused = socket.frames.filter((f) => f.type === "error" && f.error.code === "rate_limited").length;
    expect(acks + refused).toBe(15);
    expect(acks).toBe(10);
    expect(refused).toBe(5);
    socket.close();
  });
});
