/** POST /api/dev/token (DEV_AUTH): tokens for local use that the API accepts, and which user ids it issues them for. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { BASE, api, errorOf, tokenFor, uniqueRoom } from "../helpers";

const now = () => Math.floor(Date.now() / 1000);

describe("POST /api/dev/token", () => {
  it("issues a token for a user id that the API accepts", async () => {
    const res = await api("POST", "/api/dev/token", { body: { userId: "dev-user@example.com" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ token: expect.any(String) });
    const room = uniqueRoom();
    const created = await api("POST", "/api/rooms", { token: res.body.token, body: { roomId: room } });
    expect(created.status).toBe(201);
    const members = await api("GET", `/api/rooms/${room}/members`, { token: res.body.token });
    expect(members.body.members[0].userId).toBe("dev-user@example.com");
  });

  it.each([
    ["an invalid user id", { userId: "a b" }],
    ["an empty user id", { userId: "" }],
    ["no user id", {}],
    ["a user id that is not a string", { userId: 7 }],
  ])("rejects %s with 400 invalid_request", async (_name, body) => {
    expect(errorOf(await api("POST", "/api/dev/token", { body }))).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
  });

  it("signs tokens that expire: exp is set and in the future", async () => {
    const token = await tokenFor("alice");
    const payload = JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as { sub: string; exp: number };
    expect(payload.sub).toBe("alice");
    expect(payload.exp).toBeGreaterThan(now());
  });
});

/**
 * The safety nets for a DEV_AUTH set where it should not be: only a loopback
 * host gets dev routes (elsewhere 404, as if dev auth were off), and admin dev
 * tokens need DEV_AUTH_ADMIN as well. The real app runs with the Host or the
 * settings changed.
 */
describe("dev auth safety nets", () => {
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  async function devCall(origin: string, path: string, body: unknown, vars: Record<string, string | undefined> = {}) {
    const request = new Request(`${origin}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const res = await createApp().fetch(request, { ...env, ...vars } as unknown as Env, ctx);
    return { status: res.status, body: (await res.json()) as { token?: string; error?: { code: string; message: string } } };
  }

  it.each(["https://chat.example", "http://10.0.0.1:8787", "https://localhost.example", "http://128.0.0.1", "http://[::2]", "https://127.0.0.1.example"])(
    "answers 404 not_found to a token request for the host of %s",
    async (origin) => {
      const res = await devCall(origin, "/api/dev/token", { userId: "mallory" });
      expect(res.status).toBe(404);
      expect(res.body.error?.code).toBe("not_found");
      expect(res.body.token).toBeUndefined();
    },
  );

  it("hides the other dev routes from a non-loopback host too", async () => {
    const room = uniqueRoom();
    for (const path of [`/api/dev/rooms/${room}/abort`, `/api/dev/rooms/${room}/seed`]) {
      const res = await devCall("https://chat.example", path, { userId: "mallory", count: 1 });
      expect(res.status, path).toBe(404);
      expect(res.body.error?.code).toBe("not_found");
    }
  });

  it.each(["http://localhost:8787", "https://app.localhost", "http://127.0.0.1:8787", "http://127.1.2.3", "http://[::1]:8787", "http://LOCALHOST."])(
    "issues a token for the loopback host of %s",
    async (origin) => {
      const res = await devCall(origin, "/api/dev/token", { userId: "dev-local" });
      expect(res.status).toBe(200);
      expect(res.body.token).toEqual(expect.any(String));
    },
  );

  it("refuses a token to a page of another site on the developer's machine, and gives one to the local app's own page", async () => {
    const asked = async (origin: string) => {
      const request = new Request("http://localhost:8787/api/dev/token", {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: JSON.stringify({ userId: "dev-page" }),
      });
      const res = await createApp().fetch(request, { ...env, ALLOWED_ORIGINS: "*" } as unknown as Env, ctx);
      return { status: res.status, body: (await res.json()) as { token?: string; error?: { code: string } } };
    };
    for (const origin of ["https://evil.example", "null", "http://10.0.0.1:8787"]) {
      const res = await asked(origin);
      expect(res.status, origin).toBe(404);
      expect(res.body.token).toBeUndefined();
    }
    expect((await asked("http://localhost:8787")).status).toBe(200);
    expect((await asked("http://127.0.0.1:5173")).status).toBe(200);
  });

  it("refuses an admin dev token with 403 forbidden naming DEV_AUTH_ADMIN unless it is \"true\"", async () => {
    for (const value of [undefined, "", "false", "1"]) {
      const res = await devCall(BASE, "/api/dev/token", { userId: "dev-root", admin: true }, { DEV_AUTH_ADMIN: value });
      expect(res.status, String(value)).toBe(403);
      expect(res.body.error?.code).toBe("forbidden");
      expect(res.body.error?.message).toContain("DEV_AUTH_ADMIN");
    }
    // Tokens without admin are still issued; with the switch on, admin ones are (vitest.config.ts sets it).
    expect((await devCall(BASE, "/api/dev/token", { userId: "dev-plain", admin: false }, { DEV_AUTH_ADMIN: undefined })).status).toBe(200);
    const admin = await devCall(BASE, "/api/dev/token", { userId: "dev-root", admin: true });
    expect(admin.status).toBe(200);
    const stats = await api("GET", "/api/admin/stats?roomIds=", { token: admin.body.token });
    expect(stats.status).toBe(200);
  });
});
