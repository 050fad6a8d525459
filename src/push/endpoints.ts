/**
 * What a push subscription may be: an https endpoint on a known push service
 * (the allow-list PUSH_ENDPOINT_HOSTS), so that the queue consumer, which
 * POSTs to every stored endpoint, cannot be aimed at any other host; and keys
 * a browser could have made (RFC 8291: `p256dh` an uncompressed P-256 point,
 * `auth` a 16-byte secret), so that no send fails on them later.
 *
 * With dev auth on, http and https endpoints on loopback names stay allowed:
 * the end-to-end tests run a push service on 127.0.0.1.
 */
import { base64urlToBytes } from "../kernel/base64url";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Whether `host` (lower case, no port) is on the allow-list; `*.example.com` matches subdomains only. */
export function hostAllowed(host: string, hosts: readonly string[]): boolean {
  return hosts.some((entry) => (entry.startsWith("*.") ? host.endsWith(entry.slice(1)) && host.length > entry.length - 1 : host === entry));
}

export function endpointAllowed(endpoint: string, hosts: readonly string[], devAuth: boolean): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "") return false;
  if (devAuth && LOOPBACK.has(url.hostname) && (url.protocol === "http:" || url.protocol === "https:")) return true;
  return url.protocol === "https:" && url.port === "" && hostAllowed(url.hostname, hosts);
}

/**
 * An https endpoint the allow-list refuses (the consumer skips it and keeps it).
 * Other schemes are not this: the sender drops them as gone, as it always has.
 */
export function httpsOffAllowList(endpoint: string, hosts: readonly string[], devAuth: boolean): boolean {
  return URL.canParse(endpoint) && new URL(endpoint).protocol === "https:" && !endpointAllowed(endpoint, hosts, devAuth);
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function bytesOf(text: string): Uint8Array | null {
  if (!BASE64URL.test(text)) return null;
  try {
    return base64urlToBytes(text.replace(/=+$/, ""));
  } catch {
    return null;
  }
}

/** Whether the keys are a browser's: `p256dh` 65 bytes, a point on P-256; `auth` 16 bytes. */
export async function keysValid(keys: { p256dh: string; auth: string }): Promise<boolean> {
  const point = bytesOf(keys.p256dh);
  const auth = bytesOf(keys.auth);
  if (!point || point.byteLength !== 65 || point[0] !== 0x04 || !auth || auth.byteLength !== 16) return false;
  try {
    // Import checks the point is on the curve.
    await crypto.subtle.importKey("raw", new Uint8Array(point), { name: "ECDH", namedCurve: "P-256" }, false, []);
    return true;
  } catch {
    return false;
  }
}
