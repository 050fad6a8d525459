/**
 * WebSocket upgrades per client IP (the UPGRADE_LIMITER Rate Limiting
 * binding from wrangler.toml, 60 a minute, which the test pool emulates):
 * every attempt counts, ticket or not, and the one over the limit gets 429
 * rate_limited with Retry-After before anything else is looked at.
 */
import { SELF, env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/http/context";
import { limitUpgrades } from "../../src/http/upgrade-limit";
import { BASE, connect, freshMinute, uniqueRoom, user, uniqueUser } from "../helpers";

/** Tests share the pool's limiter: each uses addresses nobody else does. */
let next = Math.floor(Math.random() * 200);
const freshIp = () => `198.51.100.${next++ % 250}`;

const upgradeFrom = (ip: string, path: string) =>
  SELF.fetch(`${BASE}${path}`, { headers: { Upgrade: "websocket", "CF-Connecting-IP": ip } });

describe("upgrades per IP", () => {
  it("counts every upgrade attempt of an address and refuses the one over 60 a minute with 429 rate_limited", async () => {
    // The limiter's window is a fixed minute: start well inside one, so the checks after the
    // refusal (same minute) do not land in the next.
    await freshMinute(45_000);
    const ip = freshIp();
    const room = uniqueRoom("ip");
    // Bad tickets: each attempt still counts. The limiter's window is a fixed minute, so one
    // boundary may fall inside the loop; the refusal then comes at most one window later.
    let refusedAt = -1;
    let refusal: Response | null = null;
    for (let i = 0; i < 130 && refusedAt < 0; i++) {
      const res = await upgradeFrom(ip, `/api/rooms/${room}/ws?ticket=bogus-${i}`);
      if (res.status === 429) {
        refusedAt = i;
        refusal = res;
      } else {
        expect(res.status).toBe(401);
        await res.body?.cancel();
      }
    }
    expect(refusedAt).toBeGreaterThanOrEqual(60);
    const body = (await refusal!.json()) as { error: { code: string; retryAfter: number } };
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.retryAfter).toBe(60);
    expect(refusal!.headers.get("Retry-After")).toBe("60");
    // The inbox socket shares the limit; another address does not.
    expect((await upgradeFrom(ip, "/api/inbox/ws?user=someone&ticket=bogus")).status).toBe(429);
    const other = await upgradeFrom(freshIp(), `/api/rooms/${room}/ws?ticket=bogus`);
    expect(other.status).toBe(401);
  });

  it("leaves requests without CF-Connecting-IP (not through the edge) and plain HTTP alone", async () => {
    const alice = await user(uniqueUser("ipless"));
    const room = uniqueRoom("ipless");
    expect((await alice.createRoom(room)).status).toBe(201);
    // The test helpers' upgrades carry no address: any number of them connect.
    const socket = await connect(alice.token, room);
    expect(socket.closed).toBeNull();
    socket.close();
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const res = await SELF.fetch(`${BASE}/api/health`, { headers: { "CF-Connecting-IP": ip } });
      expect(res.status).toBe(200);
    }
  });

  it("is skipped without the binding, and with UPGRADE_RATE_LIMIT=off", async () => {
    const app = new Hono<AppEnv>().use("*", limitUpgrades).get("*", (c) => c.text("passed"));
    const ip = freshIp();
    const attempt = (bindings: Partial<Env>) => app.request("/api/rooms/x/ws", { headers: { Upgrade: "websocket", "CF-Connecting-IP": ip } }, bindings);
    for (let i = 0; i < 70; i++) {
      expect((await attempt({})).status).toBe(200);
      expect((await attempt({ UPGRADE_LIMITER: env.UPGRADE_LIMITER, UPGRADE_RATE_LIMIT: "off" })).status).toBe(200);
    }
  });
});
