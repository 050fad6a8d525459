/**
 * Sockets do not outlive the token they were opened with: a room socket is
 * closed with 4401 at its first frame after the expiry or by the room's alarm,
 * and an inbox socket likewise.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_AUTH_SECRET, api, connect, sleep, upgrade, user } from "../helpers";
import { manualClockOn } from "./helpers/clock";
import { roomOf as roomWith, stubOf } from "./helpers/rooms";

const roomOf = (...names: string[]) => roomWith("expiry", ...names);

/**
 * Long enough that the Worker never sees the token expire while a test opens
 * its sockets (it checks by the real time); short enough that moving the
 * object's clock past it stays below the heartbeat timeout, so the sockets
 * that should stay open are not taken for dead.
 */
const LIFETIME_S = 30;

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
    const clock = await manualClockOn(stubOf(room));
    const { token, exp } = await shortToken("bob", LIFETIME_S);
    const socket = await connect(token, room);
    socket.send({ type: "send", reqId: "before", content: "while valid" });
    await socket.waitFor((f) => f.type === "ack" && f.reqId === "before");
    clock.set(exp + 1);
    socket.send({ type: "send", reqId: "after", content: "too late" });
    expect((await socket.waitClosed(3000)).code).toBe(4401);
    expect(socket.frames.some((f) => f.type === "ack" && f.reqId === "after")).toBe(false);
    const alice = await user("alice");
    const page = await alice.history(room);
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual(["while valid"]);
  });

  it("closes an idle socket with 4401 when the room's alarm runs after the expiry", async () => {
    const { room } = await roomOf("alice", "bob");
    const clock = await manualClockOn(stubOf(room));
    const { token, exp } = await shortToken("bob", LIFETIME_S);
    const socket = await connect(token, room);
    const alice = await user("alice");
    const other = await connect(alice.token, room);
    clock.set(exp + 1);
    // The alarm is set for the expiry (by the runtime's clock, which has not got there).
    expect(await runDurableObjectAlarm(stubOf(room))).toBe(true);
    expect((await socket.waitClosed(3000)).code).toBe(4401);
    // A socket opened with a long-lived token is untouched.
    await other.sync();
    expect(other.closed).toBeNull();
    other.close();
  });

  it("closes an inbox socket with 4401 once the token it was opened with has expired", async () => {
    const clock = await manualClockOn(env.INBOXES.getByName("inbox-expiry"));
    const { token, exp } = await shortToken("inbox-expiry", LIFETIME_S);
    const ticket = await api<{ url: string }>("POST", "/api/inbox/connect-ticket", { token });
    expect(ticket.status).toBe(200);
    const res = await upgrade(ticket.body.url);
    expect(res.status).toBe(101);
    const socket = new InboxSocket(res);
    clock.set(exp + 1);
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
    this.ws.addEventListener("message", (e) => {
      this.texts.push(String(e.data));
    });
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
