/**
 * Unsafe auth settings (src/kernel/config.ts `problems`): a JWKS without
 * AUTH_ISSUER or AUTH_AUDIENCE, or an AUTH_SECRET under 32 bytes, makes every
 * authenticated request a 500 misconfigured naming the setting, and
 * /api/health a 503 naming it. The real app runs against the test env with
 * the settings patched; nothing is fetched from the JWKS URL (nothing listens
 * on port 9), since the refusal comes before any token is looked at.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { BASE, tokenFor, uniqueRoom } from "../helpers";

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
const JWKS = "http://127.0.0.1:9/.well-known/jwks.json";

/** A fresh env object (so its configuration is parsed anew) with `vars` set, `undefined` meaning unset. */
function envWith(vars: Record<string, string | undefined>): Env {
  return { ...env, ...vars } as unknown as Env;
}

async function call(vars: Record<string, string | undefined>, method: string, path: string, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await createApp().fetch(new Request(`${BASE}${path}`, { method, headers }), envWith(vars), ctx);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string }; ok?: boolean; failed?: string[]; checks?: Record<string, { ok: boolean; error?: string; problems?: string[] }> } };
}

describe.each([
  ["a JWKS URL without an issuer", { AUTH_JWKS_URL: JWKS, AUTH_AUDIENCE: "edge-chat" }, "AUTH_ISSUER"],
  ["a JWKS URL without an audience", { AUTH_JWKS_URL: JWKS, AUTH_ISSUER: "https://idp.example" }, "AUTH_AUDIENCE"],
  ["an AUTH_SECRET of 31 bytes", { AUTH_SECRET: "x".repeat(31) }, "AUTH_SECRET"],
])("%s", (_name, vars, setting) => {
  it(`answers every authenticated request 500 misconfigured naming ${setting}`, async () => {
    const token = await tokenFor("cfg-alice");
    for (const [method, path] of [
      ["GET", "/api/rooms"],
      ["POST", `/api/rooms/${uniqueRoom()}/messages`],
      ["GET", "/api/sync"],
      ["GET", "/api/admin/stats"],
    ] as const) {
      for (const bearer of [token, undefined]) {
        const res = await call(vars, method, path, bearer);
        expect(res.status, `${method} ${path}`).toBe(500);
        expect(res.body.error?.code).toBe("misconfigured");
        expect(res.body.error?.message).toContain(setting);
      }
    }
  });

  it(`makes /api/health a 503 whose config check names ${setting}`, async () => {
    const res = await call(vars, "GET", "/api/health");
    expect(res.status).toBe(503);
    expect(res.body.ok).toBe(false);
    expect(res.body.failed).toEqual(["config"]);
    expect(res.body.checks?.config).toMatchObject({ ok: false, error: "misconfigured" });
    expect(res.body.checks?.config?.problems?.join(" ")).toContain(setting);
  });
});

describe("sound auth settings", () => {
  it("serve as before: a JWKS with issuer and audience, a secret of 32 bytes", async () => {
    // 32 ASCII bytes is enough; the length is counted in UTF-8 bytes, not characters.
    const health = await call({ AUTH_SECRET: "x".repeat(32) }, "GET", "/api/health");
    expect(health.status).toBe(200);
    expect(health.body.checks?.config).toEqual({ ok: true, ms: 0 });
    const jwks = await call({ AUTH_JWKS_URL: JWKS, AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "edge-chat" }, "GET", "/api/health");
    expect(jwks.status).toBe(200);
    // Without a token the request is refused as before: 401, not 500.
    const noToken = await call({ AUTH_JWKS_URL: JWKS, AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "edge-chat" }, "GET", "/api/rooms");
    expect(noToken.status).toBe(401);
    expect(noToken.body.error?.code).toBe("unauthorized");
  });
});
