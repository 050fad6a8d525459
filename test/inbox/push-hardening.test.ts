/**
 * Push registration hardening (issue 15, item 8): endpoints only on known
 * push services (PUSH_ENDPOINT_HOSTS; loopback too with dev auth, as in
 * these tests), keys a browser could have made, at most 10 subscriptions a
 * user (409 too_many_push_subscriptions), and an endpoint bound to the user
 * who registered it (409 push_endpoint_taken for anyone else).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { addSubscription, subscriptionsOf } from "../../src/db/push";
import type { PushJob } from "../../src/protocol";
import { handlePushBatch } from "../../src/push/consumer";
import worker from "../../src/worker";
import { BASE, uniqueUser, user } from "../helpers";

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

/** A browser's keys: a fresh P-256 public key (65 bytes, uncompressed) and a 16-byte auth secret. */
async function browserKeys(): Promise<{ p256dh: string; auth: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  return { p256dh: b64url(raw), auth: b64url(crypto.getRandomValues(new Uint8Array(16))) };
}

const fcm = (name: string) => `https://fcm.googleapis.com/fcm/send/${name}`;

describe("push registration: endpoints", () => {
  it("accepts the browsers' push services and, with dev auth, loopback; refuses every other host", async () => {
    const bob = await user(uniqueUser("pushhost"));
    const keys = await browserKeys();
    const register = async (endpoint: string) => {
      const res = await bob.call("POST", "/api/me/push-subscriptions", { endpoint, expirationTime: null, keys });
      return res.status === 200 ? "200" : `${res.status} ${res.body?.error?.code}`;
    };
    const id = bob.userId;
    for (const ok of [
      fcm(id),
      `https://updates.push.services.mozilla.com/wpush/v2/${id}`,
      `https://wns2-par02p.notify.windows.com/w/?token=${id}`,
      `https://web.push.apple.com/${id}`,
      `https://api.push.apple.com/3/device/${id}`,
      `http://127.0.0.1:9/push/${id}`,
      `http://localhost:9/push/${id}`,
    ]) {
      expect(await register(ok), ok).toBe("200");
    }
    for (const refused of [
      `https://push.example/${id}`,
      `https://evil.example/${id}`,
      `https://fcm.googleapis.com.evil.example/${id}`,
      `https://notify.windows.com/${id}`,
      `https://evilpush.apple.com/${id}`,
      `https://fcm.googleapis.com:8443/${id}`,
      `https://user:pw@fcm.googleapis.com/${id}`,
      `http://fcm.googleapis.com/${id}`,
      `http://10.0.0.1/${id}`,
      `ftp://fcm.googleapis.com/${id}`,
    ]) {
      expect(await register(refused), refused).toBe("400 invalid_request");
    }
    expect((await subscriptionsOf(env.DB, id)).length).toBe(7);
  });

  it("reads the allow-list from PUSH_ENDPOINT_HOSTS", async () => {
    const bob = await user(uniqueUser("pushcfg"));
    const keys = await browserKeys();
    const custom = { ...env, PUSH_ENDPOINT_HOSTS: "push.example, *.corp.example" } as Env;
    const register = async (endpoint: string) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`${BASE}/api/me/push-subscriptions`, {
          method: "POST",
          headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json" },
          body: JSON.stringify({ endpoint, keys }),
        }) as Parameters<typeof worker.fetch>[0],
        custom,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res.status;
    };
    expect(await register(`https://push.example/${bob.userId}`)).toBe(200);
    expect(await register(`https://eu.corp.example/${bob.userId}`)).toBe(200);
    expect(await register(fcm(bob.userId))).toBe(400);
  });
});

describe("push registration: keys", () => {
  it("refuses keys that are not a P-256 point and a 16-byte secret", async () => {
    const bob = await user(uniqueUser("pushkeys"));
    const good = await browserKeys();
    const point = Uint8Array.from(atob(good.p256dh.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
    const compressed = new Uint8Array(65).fill(7);
    compressed[0] = 0x02;
    const offCurve = new Uint8Array(65).fill(1);
    offCurve[0] = 0x04;
    const bad: Array<{ p256dh: string; auth: string }> = [
      { p256dh: "BPubKey", auth: good.auth },
      { p256dh: b64url(point.slice(0, 64)), auth: good.auth },
      { p256dh: b64url(compressed), auth: good.auth },
      { p256dh: b64url(offCurve), auth: good.auth },
      { p256dh: `${good.p256dh}!`, auth: good.auth },
      { p256dh: good.p256dh, auth: "authsecret" },
      { p256dh: good.p256dh, auth: b64url(new Uint8Array(15)) },
      { p256dh: good.p256dh, auth: b64url(new Uint8Array(17)) },
      { p256dh: good.p256dh, auth: "not base64url!!!!!!!!!!" },
    ];
    for (const [i, keys] of bad.entries()) {
      const res = await bob.call("POST", "/api/me/push-subscriptions", { endpoint: fcm(`${bob.userId}-${i}`), keys });
      expect(res.status, JSON.stringify(keys)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(await subscriptionsOf(env.DB, bob.userId)).toEqual([]);
    expect((await bob.call("POST", "/api/me/push-subscriptions", { endpoint: fcm(bob.userId), keys: good })).status).toBe(200);
  });
});

describe("push registration: per user", () => {
  it("caps subscriptions at 10 a user: the 11th is 409 too_many_push_subscriptions, a re-registration is not counted", async () => {
    const bob = await user(uniqueUser("pushcap"));
    const keys = await browserKeys();
    const register = (name: string) => bob.call("POST", "/api/me/push-subscriptions", { endpoint: fcm(`${bob.userId}-${name}`), keys });
    for (let i = 0; i < 10; i++) expect((await register(String(i))).status, `subscription ${i}`).toBe(200);
    const eleventh = await register("10");
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.error).toMatchObject({ code: "too_many_push_subscriptions", message: expect.any(String) });
    // Its own endpoint again (a browser re-subscribing) refreshes it.
    const fresh = await browserKeys();
    expect((await bob.call("POST", "/api/me/push-subscriptions", { endpoint: fcm(`${bob.userId}-3`), keys: fresh })).status).toBe(200);
    const subs = await subscriptionsOf(env.DB, bob.userId);
    expect(subs.length).toBe(10);
    expect(subs.find((s) => s.endpoint === fcm(`${bob.userId}-3`))).toEqual({ endpoint: fcm(`${bob.userId}-3`), ...fresh });
    // One unregistered makes room for another.
    expect((await bob.call("DELETE", "/api/me/push-subscriptions", { endpoint: fcm(`${bob.userId}-0`) })).body).toEqual({ removed: true });
    expect((await register("10")).status).toBe(200);
    expect((await register("11")).status).toBe(409);
  });

  it("binds an endpoint to the user who registered it: another user gets 409 push_endpoint_taken and changes nothing", async () => {
    const bob = await user(uniqueUser("pushbob"));
    const mallory = await user(uniqueUser("pushmallory"));
    const endpoint = fcm(`shared-${bob.userId}`);
    const bobKeys = await browserKeys();
    expect((await bob.call("POST", "/api/me/push-subscriptions", { endpoint, keys: bobKeys })).status).toBe(200);
    const taken = await mallory.call("POST", "/api/me/push-subscriptions", { endpoint, keys: await browserKeys() });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "push_endpoint_taken", message: expect.any(String) });
    expect(await subscriptionsOf(env.DB, bob.userId)).toEqual([{ endpoint, ...bobKeys }]);
    expect(await subscriptionsOf(env.DB, mallory.userId)).toEqual([]);
    // Nor can the other user unregister it.
    expect((await mallory.call("DELETE", "/api/me/push-subscriptions", { endpoint })).body).toEqual({ removed: false });
    expect(await subscriptionsOf(env.DB, bob.userId)).toEqual([{ endpoint, ...bobKeys }]);
    // Once its user lets it go, it can be registered again.
    expect((await bob.call("DELETE", "/api/me/push-subscriptions", { endpoint })).body).toEqual({ removed: true });
    expect((await mallory.call("POST", "/api/me/push-subscriptions", { endpoint, keys: bobKeys })).status).toBe(200);
  });
});

describe("push consumer", () => {
  it("sends nothing to an https endpoint off the allow-list (stored before it), and keeps it", async () => {
    const userId = uniqueUser("pushold");
    const keys = await browserKeys();
    await addSubscription(env.DB, userId, { endpoint: `https://evil.example/${userId}`, ...keys });
    const outcome = { acked: 0, retried: 0 };
    const body: PushJob = { userId, payload: { type: "message", roomId: "room-x", seq: 1, messageId: "m_1", sender: "alice", preview: "hi", ts: new Date().toISOString() } };
    const batch = {
      queue: "edge-chat-push",
      messages: [{ id: "0", timestamp: new Date(), attempts: 1, body, ack: () => void outcome.acked++, retry: () => void outcome.retried++ }],
      ackAll() {},
      retryAll() {},
    } as unknown as MessageBatch<PushJob>;
    const fetched = vi.spyOn(globalThis, "fetch");
    const sent = vi.spyOn(env.PUSH_QUEUE, "send");
    try {
      await handlePushBatch(batch, { ...env, VAPID_PUBLIC_KEY: "test-public", VAPID_PRIVATE_KEY: "test-private" } as Env);
      expect(fetched.mock.calls.map((c) => String(c[0] instanceof Request ? c[0].url : c[0])).filter((u) => u.includes("evil.example"))).toEqual([]);
      expect(sent).not.toHaveBeenCalled();
    } finally {
      fetched.mockRestore();
      sent.mockRestore();
    }
    expect(outcome).toEqual({ acked: 1, retried: 0 });
    expect((await subscriptionsOf(env.DB, userId)).map((s) => s.endpoint)).toEqual([`https://evil.example/${userId}`]);
  });
});
