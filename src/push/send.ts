/**
 * Sends one Web Push message: RFC 8291 (aes128gcm) encryption and RFC 8292
 * VAPID, with @block65/webcrypto-web-push (Web Crypto only, so it runs in
 * workerd; no Node crypto, no native code).
 *
 * The library refuses endpoints that are not https (RFC 8030 push resources
 * are). With dev auth on, an http endpoint is allowed so tests can run a push
 * service on 127.0.0.1: its VAPID token is signed for the https form of the
 * origin.
 */
import { encryptNotification, vapidHeaders } from "@block65/webcrypto-web-push";
import type { StoredSubscription } from "../db/push";
import type { Vapid } from "../kernel/config";

export type { Vapid };

export type PushOutcome = "sent" | "gone" | "retry";

export async function sendPush(sub: StoredSubscription, payload: unknown, vapid: Vapid, allowHttp: boolean, ttlSeconds = 3600): Promise<PushOutcome> {
  const endpoint = new URL(sub.endpoint);
  if (endpoint.protocol !== "https:" && !(allowHttp && endpoint.protocol === "http:")) return "gone";
  const signFor = new URL(sub.endpoint);
  signFor.protocol = "https:";
  const subscription = { endpoint: sub.endpoint, expirationTime: null, keys: { p256dh: sub.p256dh, auth: sub.auth } };
  const { headers } = await vapidHeaders({ ...subscription, endpoint: signFor.toString() }, vapid);
  const body = await encryptNotification(subscription, new TextEncoder().encode(JSON.stringify(payload)));
  let res: Response;
  try {
    res = await fetch(sub.endpoint, {
      method: "POST",
      headers: { ...headers, ttl: String(ttlSeconds), urgency: "high", "content-encoding": "aes128gcm", "content-type": "application/octet-stream" },
      body,
    });
  } catch {
    return "retry";
  }
  await res.body?.cancel();
  if (res.status === 404 || res.status === 410) return "gone";
  if (res.ok) return "sent";
  // 429 and 5xx are worth another try; other 4xx (bad request, payload too large) are not.
  return res.status === 429 || res.status >= 500 ? "retry" : "sent";
}
