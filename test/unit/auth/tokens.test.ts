/**
 * Token verification in plain Node (src/auth/tokens.ts): HS256 pinned, sub and
 * exp required, admin from the configured claim. The HTTP side (401 answers on
 * every route) is test/http/auth.test.ts.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configOf } from "../../../src/kernel/config";
import { signDevToken, verifyToken } from "../../../src/auth/tokens";

const SECRET = "unit-test-secret-with-enough-length-0123456789";
const auth = configOf({ AUTH_SECRET: SECRET }).auth;
const key = new TextEncoder().encode(SECRET);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

const sign = (claims: Record<string, unknown>, alg = "HS256", k = key) => new SignJWT(claims).setProtectedHeader({ alg }).sign(k);

describe("verifyToken", () => {
  it("accepts an HS256 token with sub and exp, and reads the admin claim", async () => {
    const plain = await verifyToken(await sign({ sub: "alice", exp: inAnHour() }), auth);
    expect(plain).toEqual({ ok: true, identity: { userId: "alice", admin: false, expiresAt: expect.any(Number) } });
    const admin = await verifyToken(await sign({ sub: "root", exp: inAnHour(), admin: true }), auth);
    expect(admin.ok && admin.identity.admin).toBe(true);
    // Only `true` makes an admin.
    const truthy = await verifyToken(await sign({ sub: "root", exp: inAnHour(), admin: "yes" }), auth);
    expect(truthy.ok && truthy.identity.admin).toBe(false);
  });

  it("refuses a token without exp or sub, or whose sub is not a user id", async () => {
    expect((await verifyToken(await sign({ sub: "alice" }), auth)).ok).toBe(false);
    expect((await verifyToken(await sign({ exp: inAnHour() }), auth)).ok).toBe(false);
    expect(await verifyToken(await sign({ sub: "has space", exp: inAnHour() }), auth)).toEqual({ ok: false, reason: "token subject is not a valid user id" });
  });

  it("refuses an expired token, another secret and another algorithm", async () => {
    expect(await verifyToken(await sign({ sub: "alice", exp: Math.floor(Date.now() / 1000) - 120 }), auth)).toEqual({ ok: false, reason: "token has expired" });
    const other = new TextEncoder().encode("another-secret-with-enough-length-0123456789ab");
    expect(await verifyToken(await sign({ sub: "alice", exp: inAnHour() }, "HS256", other), auth)).toEqual({ ok: false, reason: "token signature is not valid" });
    expect(await verifyToken(await sign({ sub: "alice", exp: inAnHour() }, "HS512"), auth)).toEqual({ ok: false, reason: "token algorithm is not allowed" });
    expect((await verifyToken("not.a.token", auth)).ok).toBe(false);
  });

  it("refuses everything when no key is configured", async () => {
    const none = configOf({}).auth;
    expect((await verifyToken(await sign({ sub: "alice", exp: inAnHour() }), none)).ok).toBe(false);
  });
});

describe("signDevToken", () => {
  it("signs a token verifyToken accepts, for a day, with the admin claim when asked", async () => {
    const before = Date.now();
    const result = await verifyToken(await signDevToken(auth, "dev-user", true), auth);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.identity).toMatchObject({ userId: "dev-user", admin: true });
    expect(result.identity.expiresAt).toBeGreaterThanOrEqual(before + 24 * 3600_000 - 2000);
    expect(result.identity.expiresAt).toBeLessThanOrEqual(Date.now() + 24 * 3600_000 + 1000);
  });

  it("needs a secret", async () => {
    await expect(signDevToken(configOf({}).auth, "dev-user", false)).rejects.toThrow(/AUTH_SECRET/);
  });
});

/**
 * JWKS mode: the identity provider signs tokens for other applications with
 * the same keys, so issuer and audience are required and checked. The JWKS is
 * served from 127.0.0.1 by this test.
 */
describe("verifyToken with a JWKS", () => {
  let server: Server;
  let jwksUrl = "";
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const idpToken = (claims: { iss?: string; aud?: string; admin?: boolean }) => {
    let jwt = new SignJWT(claims.admin ? { admin: true } : {}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("alice").setExpirationTime("1h");
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    if (claims.aud) jwt = jwt.setAudience(claims.aud);
    return jwt.sign(privateKey);
  };
  const configured = () => configOf({ AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "edge-chat" }).auth;

  it("accepts a token of this issuer for this audience", async () => {
    const result = await verifyToken(await idpToken({ iss: "https://idp.example", aud: "edge-chat", admin: true }), configured());
    expect(result).toEqual({ ok: true, identity: { userId: "alice", admin: true, expiresAt: expect.any(Number) } });
  });

  it("refuses a token the same provider issued to another application, or another issuer's, or one without them", async () => {
    const auth = configured();
    for (const claims of [{ iss: "https://idp.example", aud: "other-app", admin: true }, { iss: "https://other.example", aud: "edge-chat" }, { iss: "https://idp.example" }, { aud: "edge-chat" }, {}]) {
      expect(await verifyToken(await idpToken(claims), auth), JSON.stringify(claims)).toEqual({ ok: false, reason: "token claims are not valid" });
    }
  });

  it("refuses every token when the issuer or the audience is not configured", async () => {
    const token = await idpToken({ iss: "https://idp.example", aud: "edge-chat", admin: true });
    for (const vars of [{ AUTH_AUDIENCE: "edge-chat" }, { AUTH_ISSUER: "https://idp.example" }, {}]) {
      const result = await verifyToken(token, configOf({ AUTH_JWKS_URL: jwksUrl, ...vars }).auth);
      expect(result, JSON.stringify(vars)).toEqual({ ok: false, reason: "AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL" });
    }
  });
});
