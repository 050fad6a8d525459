/**
 * Structured logs: a scripted session (connect, sends, a refusal, a resume, a
 * deletion, a hold, a purge, closes) writes one JSON line per notable event,
 * and no line holds a token, a connect ticket or a message body.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { overrideLogLevel } from "../../src/ops/log";
import { api, connect, eventually, socketOf, tokenFor, uniqueRoom, uniqueUser, upgrade, user } from "../helpers";

const lines: string[] = [];

beforeEach(() => {
  lines.length = 0;
  overrideLogLevel("info");
  for (const method of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
});

afterEach(() => {
  overrideLogLevel(null);
  vi.restoreAllMocks();
});

const events = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe("structured logs", () => {
  it("log every notable event as JSON, without tokens, tickets or bodies", async () => {
    const body = `SECRET-BODY-${crypto.randomUUID()}`;
    const alice = await user(uniqueUser("alice"));
    const mallory = await user(uniqueUser("mallory"));
    const admin = await tokenFor(uniqueUser("admin"), true);
    const room = uniqueRoom("logs");
    expect((await alice.createRoom(room)).status).toBe(201);

    // A socket opened by hand, so the test knows its ticket.
    const ticket = await alice.call<{ ticket: string; url: string }>("POST", `/api/rooms/${room}/connect-ticket`);
    const socket = socketOf(await upgrade(ticket.body.url));
    socket.send({ type: "hello", protocol: 1 });
    const live = (await socket.waitFor((f) => f.type === "live")) as { epoch: string; seq: number };
    socket.send({ type: "send", reqId: "s1", content: `${body}-ws`, clientId: "k1" });
    await socket.waitFor((f) => f.type === "ack");
    socket.send(`{"type":"send","content":"${body}-broken`); // not JSON: refused, not logged with its text
    await socket.waitFor((f) => f.type === "error");
    const sent = await alice.send(room, `${body}-http`);
    expect(sent.status).toBe(201);
    expect((await mallory.send(room, `${body}-refused`)).status).toBe(403);
    expect((await alice.call("DELETE", `/api/rooms/${room}/messages/${sent.body.id}`)).status).toBe(200);
    // Hold, release, and the purge of the deleted message's content.
    const hold = await api("POST", "/api/admin/holds", { token: admin, body: { roomId: room, reason: "test" } });
    expect(hold.status).toBe(201);
    expect((await api("DELETE", `/api/admin/holds/${hold.body.holdId}`, { token: admin })).status).toBe(200);
    await runDurableObjectAlarm(env.ROOMS.getByName(room));
    // A resume, then every socket closes.
    const resumed = await connect(alice.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    socket.close();
    resumed.close();
    await eventually(async () => (events().filter((e) => e.event === "close").length >= 2 ? true : undefined), 3000, "close lines");

    const seen = events();
    const kinds = new Set(seen.map((e) => e.event));
    for (const kind of ["connect", "close", "resume", "error", "deletion", "hold", "purge", "http_error"]) expect(kinds, kind).toContain(kind);
    // The socket's refused frame, with its code and connection; the HTTP refusal, with its request.
    expect(seen.find((e) => e.event === "error")).toMatchObject({ code: "invalid_request", room, transport: "ws", conn: expect.any(String) });
    expect(seen.find((e) => e.event === "close" && e.code === 1000)).toBeDefined();
    expect(seen.find((e) => e.event === "http_error")).toMatchObject({ status: 403, code: "not_member" });
    for (const e of seen) {
      expect(typeof e.ts).toBe("string");
      expect(["info", "warn", "error"]).toContain(e.level);
      // Every socket line names its connection; every HTTP error its request.
      if (e.event === "connect" || e.event === "close" || e.event === "resume") expect(e.conn).toEqual(expect.any(String));
      if (e.event === "http_error") expect(e.req).toEqual(expect.any(String));
    }

    const text = lines.join("\n");
    expect(text).not.toContain("SECRET-BODY");
    for (const token of [alice.token, mallory.token, admin]) {
      expect(text).not.toContain(token);
      // Nor any of its three parts (a signature alone is a secret's output).
      for (const part of token.split(".")) expect(text).not.toContain(part);
    }
    expect(text).not.toContain(ticket.body.ticket);
  });
});
