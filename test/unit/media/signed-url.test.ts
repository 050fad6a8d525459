/**
 * Signed media URLs (src/media/signed-url.ts): an HMAC over room, media, user
 * and expiry; expiries rounded up to a whole TTL window; any change to the
 * four, an expired URL or another key refused.
 */
import { describe, expect, it } from "vitest";
import { signMediaUrl, verifyMediaUrl } from "../../../src/media/signed-url";

// Fresh objects: the configuration is parsed once per env object.
const envWith = (vars: { AUTH_SECRET?: string; MEDIA_URL_SECRET?: string }) => ({ ...vars }) as Env;
const env = envWith({ AUTH_SECRET: "unit-test-secret-with-enough-length-0123456789" });
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const TTL = 3600;

/** The query of a signed URL, as the download route reads it. */
function queryOf(url: string): { u?: string; exp?: string; sig?: string } {
  const params = new URL(url, "https://chat.test").searchParams;
  return { u: params.get("u") ?? undefined, exp: params.get("exp") ?? undefined, sig: params.get("sig") ?? undefined };
}

describe("signed media URLs", () => {
  it("name the room and media in the path and verify as the user they were issued to", async () => {
    const { url, expiresTs } = await signMediaUrl(env, "room 1", "m_abc", "alice", TTL, NOW);
    expect(url.startsWith("/api/rooms/room%201/media/m_abc?")).toBe(true);
    const query = queryOf(url);
    expect(query.u).toBe("alice");
    expect(query.sig).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new Date(Number(query.exp) * 1000).toISOString()).toBe(expiresTs);
    expect(await verifyMediaUrl(env, "room 1", "m_abc", query, NOW)).toBe("alice");
  });

  it("expire on the first whole TTL window at least one TTL away, so URLs asked for within one window are identical", async () => {
    const first = await signMediaUrl(env, "r", "m", "alice", TTL, NOW);
    const later = await signMediaUrl(env, "r", "m", "alice", TTL, NOW + 60_000);
    expect(later.url).toBe(first.url);
    const exp = Number(queryOf(first.url).exp);
    expect(exp % TTL).toBe(0);
    expect(exp * 1000).toBeGreaterThanOrEqual(NOW + TTL * 1000);
    expect(exp * 1000).toBeLessThan(NOW + 2 * TTL * 1000);
  });

  it("are refused once expired", async () => {
    const { url } = await signMediaUrl(env, "r", "m", "alice", TTL, NOW);
    const exp = Number(queryOf(url).exp) * 1000;
    expect(await verifyMediaUrl(env, "r", "m", queryOf(url), exp)).toBe("alice");
    expect(await verifyMediaUrl(env, "r", "m", queryOf(url), exp + 1)).toBeNull();
  });

  it("are refused for another room, media or user, a moved expiry or an altered signature", async () => {
    const query = queryOf((await signMediaUrl(env, "r", "m", "alice", TTL, NOW)).url);
    expect(await verifyMediaUrl(env, "r2", "m", query, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m2", query, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, u: "mallory" }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, exp: String(Number(query.exp) + TTL) }, NOW)).toBeNull();
    const sig = query.sig!;
    const flipped = `${sig.slice(0, -2)}${sig.at(-2) === "A" ? "B" : "A"}${sig.at(-1)}`;
    expect(await verifyMediaUrl(env, "r", "m", { ...query, sig: flipped }, NOW)).toBeNull();
  });

  it("are refused with a part missing, a malformed expiry or a signature that is not base64url", async () => {
    const query = queryOf((await signMediaUrl(env, "r", "m", "alice", TTL, NOW)).url);
    expect(await verifyMediaUrl(env, "r", "m", { ...query, u: undefined }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, sig: undefined }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, exp: undefined }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, exp: "1e12" }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, exp: `${query.exp}.5` }, NOW)).toBeNull();
    expect(await verifyMediaUrl(env, "r", "m", { ...query, sig: "not*base64" }, NOW)).toBeNull();
  });

  it("are refused under another key; MEDIA_URL_SECRET, when set, is that key", async () => {
    const query = queryOf((await signMediaUrl(env, "r", "m", "alice", TTL, NOW)).url);
    const other = envWith({ AUTH_SECRET: "another-secret-with-enough-length-0123456789ab" });
    expect(await verifyMediaUrl(other, "r", "m", query, NOW)).toBeNull();
    const dedicated = envWith({ AUTH_SECRET: "unit-test-secret-with-enough-length-0123456789", MEDIA_URL_SECRET: "media-only-secret-0123456789abcdef" });
    expect(await verifyMediaUrl(dedicated, "r", "m", query, NOW)).toBeNull();
    const signed = queryOf((await signMediaUrl(dedicated, "r", "m", "alice", TTL, NOW)).url);
    const sameMediaKey = envWith({ AUTH_SECRET: "yet-another-secret-with-enough-length-01234567", MEDIA_URL_SECRET: "media-only-secret-0123456789abcdef" });
    expect(await verifyMediaUrl(sameMediaKey, "r", "m", signed, NOW)).toBe("alice");
  });

  it("cannot be signed without any secret", async () => {
    await expect(signMediaUrl(envWith({}), "r", "m", "alice", TTL, NOW)).rejects.toThrow(/MEDIA_URL_SECRET or AUTH_SECRET/);
  });
});
