/** Bearer authentication: which tokens are accepted, and that every room route asks for one. */
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_AUTH_SECRET, api, errorOf, uniqueRoom } from "../helpers";

const secret = new TextEncoder().encode(TEST_AUTH_SECRET);
const now = () => Math.floor(Date.now() / 1000);

const b64url = (value: unknown) =>
  btoa(typeof value === "string" ? value : JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

function jwt(claims: Record<string, unknown>, opts: { alg?: string; key?: Uint8Array } = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" }).sign(opts.key ?? secret);
}

/** GET /api/rooms with the given Authorization header (or none). */
const listWith = (authorization?: string) => api("GET", "/api/rooms", authorization ? { headers: { authorization } } : {});

const UNAUTHORIZED = { status: 401, code: "unauthorized", hasMessage: true };

describe("bearer tokens", () => {
  it("accepts an HS256 token signed with the configured secret that has sub and exp", async () => {
    const token = await jwt({ sub: "alice", exp: now() + 600 });
    const res = await listWith(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.rooms)).toBe(true);
  });

  it("answers 401 unauthorized without an Authorization header", async () => {
    expect(errorOf(await listWith())).toEqual(UNAUTHORIZED);
  });

  it.each([
    ["a garbage token", "Bearer garbage"],
    ["an empty bearer", "Bearer "],
    ["another scheme", "Basic YWxpY2U6cGFzc3dvcmQ="],
    ["a bare token without the scheme", "eyJhbGciOiJIUzI1NiJ9.e30.x"],
  ])("answers 401 unauthorized for %s", async (_name, header) => {
    expect(errorOf(await listWith(header))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for a token signed with a different secret", async () => {
    const token = await jwt({ sub: "alice", exp: now() + 600 }, { key: new TextEncoder().encode("another-secret-that-is-long-enough-0123456789") });
    expect(errorOf(await listWith(`Bearer ${token}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for a token that expired more than a minute ago", async () => {
    const token = await jwt({ sub: "alice", iat: now() - 3600, exp: now() - 90 });
    expect(errorOf(await listWith(`Bearer ${token}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for a token without exp", async () => {
    const token = await jwt({ sub: "alice", iat: now() });
    expect(errorOf(await listWith(`Bearer ${token}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for a token without sub, or with a sub that is not a valid user id", async () => {
    expect(errorOf(await listWith(`Bearer ${await jwt({ exp: now() + 600 })}`))).toEqual(UNAUTHORIZED);
    expect(errorOf(await listWith(`Bearer ${await jwt({ sub: "a b", exp: now() + 600 })}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for an unsigned token (alg none)", async () => {
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: "alice", exp: now() + 600 })}.`;
    expect(errorOf(await listWith(`Bearer ${token}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for an HS512 token signed with the right secret: the algorithm is pinned to HS256", async () => {
    const token = await jwt({ sub: "alice", exp: now() + 600 }, { alg: "HS512" });
    expect(errorOf(await listWith(`Bearer ${token}`))).toEqual(UNAUTHORIZED);
  });

  it("answers 401 for a valid token whose signature was tampered with", async () => {
    const token = await jwt({ sub: "alice", exp: now() + 600 });
    const [header, , signature] = token.split(".");
    const forged = `${header}.${b64url({ sub: "mallory", exp: now() + 600 })}.${signature}`;
    expect(errorOf(await listWith(`Bearer ${forged}`))).toEqual(UNAUTHORIZED);
  });

  it("guards every room, direct and message route", async () => {
    const room = uniqueRoom();
    const calls: Array<[string, string, unknown?]> = [
      ["POST", "/api/rooms", { roomId: room }],
      ["POST", `/api/rooms/${room}/join`],
      ["POST", `/api/rooms/${room}/leave`],
      ["GET", `/api/rooms/${room}/active-users`],
      ["GET", `/api/rooms/${room}/members`],
      ["POST", `/api/rooms/${room}/messages`, { content: "hi" }],
      ["GET", `/api/rooms/${room}/messages`],
      ["POST", `/api/rooms/${room}/connect-ticket`],
      ["POST", "/api/direct/bob"],
    ];
    for (const [method, path, body] of calls) {
      expect(errorOf(await api(method, path, body === undefined ? {} : { body })), `${method} ${path}`).toEqual(UNAUTHORIZED);
    }
  });
});
