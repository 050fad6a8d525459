/**
 * Metrics: a scripted session moves the room's and the Worker's counters as
 * expected, and GET /api/admin/stats is for deployment admins only.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room";
import { api, connect, tokenFor, uniqueRoom, uniqueUser, user } from "../helpers";

const stubOf = (room: string) => env.ROOMS.getByName(room);

async function stats(query: string) {
  const admin = await tokenFor(uniqueUser("ops-admin"), true);
  const res = await api("GET", `/api/admin/stats?${query}`, { token: admin });
  expect(res.status).toBe(200);
  return res.body;
}

/** Lets one user send at most `burst` messages in this room before rate_limited (slow refill). */
async function limitSends(room: string, burst: number): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const core = instance.core as unknown as { limits: Record<string, number>; sendBuckets: unknown };
    core.sendBuckets = new (instance.core.sendBuckets.constructor as new (c: { perSecond: number; burst: number }) => unknown)({ perSecond: 0.01, burst });
  });
}

describe("GET /api/admin/stats", () => {
  it("counts sends, refusals by code, ack latency, fan-out, resumes, deletions and connections", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const mallory = await user(uniqueUser("mallory"));
    const room = uniqueRoom("stats");
    expect((await alice.createRoom(room)).status).toBe(201);
    expect((await bob.join(room)).status).toBe(200);

    const aliceSocket = await connect(alice.token, room);
    const bobSocket = await connect(bob.token, room);
    // Three sends over the socket (one retried with the same clientId: stored once) and one over HTTP.
    for (const [i, clientId] of ["c1", "c2", "c3", "c3"].entries()) aliceSocket.send({ type: "send", reqId: `r${i}`, content: `hello ${i}`, clientId });
    await aliceSocket.waitFor((f) => f.type === "ack" && f.reqId === "r3");
    const sent = await bob.send(room, "over http");
    expect(sent.status).toBe(201);
    // Refusals: a non-member, and a rate-limited member.
    expect((await mallory.send(room, "let me in")).body.error.code).toBe("not_member");
    await limitSends(room, 0);
    expect((await bob.send(room, "too fast")).body.error.code).toBe("rate_limited");
    // A deletion and a resume from an earlier position.
    expect((await bob.call("DELETE", `/api/rooms/${room}/messages/${sent.body.id}`)).status).toBe(200);
    const live = bobSocket.frames.find((f) => f.type === "live")!;
    bobSocket.close();
    const resumed = await connect(bob.token, room, { after: { epoch: (live as { epoch: string }).epoch, seq: (live as { seq: number }).seq } });
    expect(resumed.frames.some((f) => f.type === "live")).toBe(true);
    // The outbox flush records the index's lag.
    await runDurableObjectAlarm(stubOf(room));

    const body = await stats(`roomIds=${room}`);
    const rooms = body.rooms;
    expect(rooms).toMatchObject({ asked: 1, answered: 1 });
    expect(rooms.counters).toMatchObject({
      messages_accepted: 4,
      "messages_refused:not_member": 1,
      "messages_refused:rate_limited": 1,
      "deletions:message": 1,
      "resumes:replayed": 1,
      connections_opened: 3,
    });
    expect(rooms.histograms.send_ack_ms.count).toBe(4);
    // Alice's three socket sends reached both sockets; Bob's HTTP send reached both too.
    expect(rooms.histograms.fanout).toMatchObject({ count: 4, min: 2, max: 2, p50: 2 });
    // Replayed: Bob's HTTP message and its deletion notice, both after the position he resumed from.
    expect(rooms.histograms.replay_events.count).toBe(1);
    expect(rooms.histograms.replay_events.max).toBeGreaterThanOrEqual(2);
    expect(rooms.histograms.outbox_lag_ms.count).toBeGreaterThan(0);
    for (const key of ["p50", "p95", "p99"]) expect(typeof rooms.histograms.send_ack_ms[key]).toBe("number");
    expect(rooms.liveConnections).toBe(2);
    // The Worker's own figures: HTTP answers by status, with latency percentiles.
    expect(body.worker.counters["http_requests:201"]).toBeGreaterThan(0);
    expect(body.worker.counters["http_requests:403"]).toBeGreaterThan(0);
    expect(body.worker.histograms.http_ms.count).toBeGreaterThan(0);
    expect(body.note).toContain("Analytics Engine");

    aliceSocket.close();
    resumed.close();
  });

  it("asks the most recently active rooms in the index and sums them", async () => {
    const alice = await user(uniqueUser("alice"));
    const rooms = [uniqueRoom("stats-sum"), uniqueRoom("stats-sum")];
    for (const room of rooms) {
      expect((await alice.createRoom(room)).status).toBe(201);
      expect((await alice.send(room, "one")).status).toBe(201);
      expect((await alice.send(room, "two")).status).toBe(201);
      await runDurableObjectAlarm(stubOf(room));
    }
    // Explicitly named: exactly these two.
    const named = await stats(`roomIds=${rooms.join(",")}`);
    expect(named.rooms).toMatchObject({ asked: 2, answered: 2 });
    expect(named.rooms.counters.messages_accepted).toBe(4);
    // From the index (other test files' rooms may be there too): at least these two.
    const recent = await stats("limit=1000");
    expect(recent.rooms.asked).toBeGreaterThanOrEqual(2);
    expect(recent.rooms.answered).toBe(recent.rooms.asked);
    expect(recent.rooms.counters.messages_accepted).toBeGreaterThanOrEqual(4);
  });

  it("survives the room object being evicted (figures are saved by the alarm)", async () => {
    const alice = await user(uniqueUser("alice"));
    const room = uniqueRoom("stats-evict");
    expect((await alice.createRoom(room)).status).toBe(201);
    expect((await alice.send(room, "kept")).status).toBe(201);
    await runDurableObjectAlarm(stubOf(room));
    await api("POST", `/api/dev/rooms/${room}/abort`);
    const body = await stats(`roomIds=${room}`);
    expect(body.rooms.counters.messages_accepted).toBe(1);
  });

  it("refuses anyone but a deployment admin", async () => {
    expect((await api("GET", "/api/admin/stats")).status).toBe(401);
    const plain = await tokenFor(uniqueUser("plain"));
    const res = await api("GET", "/api/admin/stats", { token: plain });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
  });

  it("refuses a malformed room list", async () => {
    const admin = await tokenFor(uniqueUser("ops-admin"), true);
    const res = await api("GET", "/api/admin/stats?roomIds=a,b%20c", { token: admin });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
  });
});
