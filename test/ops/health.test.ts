/**
 * GET /api/health: D1, R2 and a room object each answer, with timings; a
 * failing or hung binding makes it a 503 that names the check.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { checkHealth } from "../../src/ops/health";
import { api } from "../helpers";

const broken = (what: string) => () => {
  throw new Error(`${what} is unavailable (test)`);
};
const hung = () => new Promise<never>(() => {});

/** The test env with one binding replaced. */
function envWith(patch: Partial<Record<"DB" | "MEDIA" | "ROOMS", unknown>>): Env {
  return { ...env, ...patch } as unknown as Env;
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;

describe("health", () => {
  it("answers 200 with a timed check of D1, R2 and a room object", async () => {
    const res = await api("GET", "/api/health");
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    for (const name of ["d1", "r2", "room"]) {
      expect(res.body.checks[name]).toMatchObject({ ok: true });
      expect(res.body.checks[name].ms).toBeGreaterThanOrEqual(0);
    }
    expect(res.body.failed).toBeUndefined();
    // Every answer names its request, for matching a report to its log lines.
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("answers 503 naming D1 when its query fails, through the real route", async () => {
    const app = createApp();
    const db = { prepare: broken("D1") } as unknown as D1Database;
    const res = await app.fetch(new Request("https://localhost/api/health"), envWith({ DB: db }), ctx);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ok: boolean; failed: string[]; checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.ok).toBe(false);
    expect(body.failed).toEqual(["d1"]);
    expect(body.checks.d1).toMatchObject({ ok: false, error: "error" });
    expect(body.checks.r2!.ok).toBe(true);
    expect(body.checks.room!.ok).toBe(true);
    // The reason is logged, not published.
    expect(JSON.stringify(body)).not.toContain("unavailable");
  });

  it("names R2 and the room object when they fail", async () => {
    const media = { head: broken("R2") } as unknown as R2Bucket;
    const rooms = { getByName: () => ({ ping: broken("the room") }) } as unknown as Env["ROOMS"];
    const health = await checkHealth(envWith({ MEDIA: media, ROOMS: rooms }));
    expect(health.ok).toBe(false);
    expect(health.failed).toEqual(["r2", "room"]);
    expect(health.checks.d1.ok).toBe(true);
  });

  it("gives up on a binding that hangs", async () => {
    const db = { prepare: () => ({ first: hung }) } as unknown as D1Database;
    const health = await checkHealth(envWith({ DB: db }), 200);
    expect(health.failed).toEqual(["d1"]);
    expect(health.checks.d1).toMatchObject({ ok: false, error: "timeout" });
  });
});
