/**
 * Signed download URLs, for places that cannot send a bearer header (an
 * <img src>, a <video>, a download link). The URL names the room, the media,
 * the user it was issued to and an expiry, and carries an HMAC-SHA256 over all
 * four. The key is MEDIA_URL_SECRET, or derived from AUTH_SECRET with HKDF
 * (so the token key is never used for anything else). The room still checks,
 * at download time, that the user is a member: leaving a room kills its URLs.
 *
 * Expiries are rounded up to a whole TTL window, so URLs asked for within one
 * window are identical and browsers can cache the object under one URL.
 */

import { base64urlToBytes, bytesToBase64url } from "../kernel/base64url";
import { configOf } from "../kernel/config";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function urlKey(env: Env): Promise<CryptoKey> {
  const config = configOf(env);
  const secret = config.media.urlSecret ?? config.auth.secret;
  if (!secret) throw new Error("MEDIA_URL_SECRET or AUTH_SECRET must be set to sign media URLs");
  const cacheKey = `${config.media.urlSecret ? "m" : "a"}:${secret}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("edge-chat media url v1") },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      );
    })();
    keys.set(cacheKey, key);
  }
  return key;
}

const payload = (roomId: string, mediaId: string, userId: string, exp: number) => encoder.encode(`${roomId}\n${mediaId}\n${userId}\n${exp}`);

/** The signature's bytes, or null for text that is not base64url. */
function signatureBytes(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    // A copy: WebCrypto takes views of an ArrayBuffer, and the kernel's decoder types its buffer loosely.
    return new Uint8Array(base64urlToBytes(text));
  } catch {
    return null;
  }
}

export async function signMediaUrl(env: Env, roomId: string, mediaId: string, userId: string, ttlS: number, now = Date.now()): Promise<{ url: string; expiresTs: string }> {
  const exp = Math.ceil((now / 1000 + ttlS) / ttlS) * ttlS;
  const sig = bytesToBase64url(new Uint8Array(await crypto.subtle.sign("HMAC", await urlKey(env), payload(roomId, mediaId, userId, exp))));
  const query = new URLSearchParams({ u: userId, exp: String(exp), sig });
  return {
    url: `/api/rooms/${encodeURIComponent(roomId)}/media/${encodeURIComponent(mediaId)}?${query.toString()}`,
    expiresTs: new Date(exp * 1000).toISOString(),
  };
}

/** The user the URL was issued to, or null if it is forged, altered or expired. */
export async function verifyMediaUrl(env: Env, roomId: string, mediaId: string, query: { u?: string; exp?: string; sig?: string }, now = Date.now()): Promise<string | null> {
  const exp = Number(query.exp);
  if (!query.u || !query.sig || !Number.isSafeInteger(exp) || exp * 1000 < now) return null;
  const sig = signatureBytes(query.sig);
  if (!sig) return null;
  const valid = await crypto.subtle.verify("HMAC", await urlKey(env), sig, payload(roomId, mediaId, query.u, exp));
  return valid ? query.u : null;
}
