/**
 * Offline notifications end to end over npm start: a message to a member with
 * no live device goes through the push queue to a push service, here a Node
 * HTTP server on 127.0.0.1 started by the test, which decrypts the payload
 * (RFC 8291 aes128gcm, with the subscription's private key) and checks it.
 */
import { createECDH, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatClient } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
}

let chat: LocalChat;
let push: Server;
let pushPort = 0;
const received: Received[] = [];
/** Statuses to answer, per path, in order; then 201. */
const script = new Map<string, number[]>();

beforeAll(async () => {
  push = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      const status = script.get(path)?.shift() ?? 201;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => push.listen(0, "127.0.0.1", resolve));
  pushPort = (push.address() as { port: number }).port;
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
  await new Promise((resolve) => push?.close(resolve));
});

/** A browser's side of a push subscription: its key pair and auth secret. */
function newSubscription(name: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const path = `/push/${name}-${randomBytes(4).toString("hex")}`;
  return {
    path,
    ecdh,
    auth,
    json: { endpoint: `http://127.0.0.1:${pushPort}${path}`, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } },
  };
}

/** RFC 8291 §3.4 and RFC 8188: the receiving user agent's decryption. */
function decrypt(sub: ReturnType<typeof newSubscription>, body: Buffer): unknown {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  expect(rs).toBeGreaterThanOrEqual(ciphertext.length);
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), sub.ecdh.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last record's delimiter
  return JSON.parse(padded.subarray(0, end).toString("utf8"));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitForRequests(path: string, n: number, ms = 15_000): Promise<Received[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = received.filter((r) => r.path === path);
    if (got.length >= n) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} push request(s) to ${path}; got ${got.length}\n${chat.output().slice(-2000)}`);
    await sleep(50);
  }
}

/** Fresh users per test: a late push of one test must not land on another test's subscriptions. */
let pairs = 0;
async function pair(room: string): Promise<{ alice: ChatClient; bob: ChatClient; bobId: string }> {
  pairs++;
  const alice = await chat.client("alice");
  const bobId = pairs === 1 ? "bob" : `bob${pairs}`;
  const bob = await chat.client(bobId);
  await alice.createRoom(room);
  await bob.joinRoom(room);
  return { alice, bob, bobId };
}

/** Waits for a push to `sub` whose decrypted preview is `preview`. */
async function waitForPush(sub: ReturnType<typeof newSubscription>, preview: string, ms = 15_000): Promise<Received> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = received.find((r) => r.path === sub.path && r.status === 201 && (decrypt(sub, r.body) as { preview?: string }).preview === preview);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for a push of "${preview}" to ${sub.path}\n${chat.output().slice(-2000)}`);
    await sleep(50);
  }
}

/**
 * A member who joins after bob, never connects and is never muted: the barrier
 * for "bob gets no push". The room enqueues one job per offline member in join
 * order, in one batch, and the consumer takes a batch's jobs in order, so once
 * this member's push for a message has arrived, bob's job for it has been
 * decided (and every request it was going to make has been made).
 */
async function witness(room: string, name: string) {
  const client = await chat.client(`${name}${pairs}`);
  await client.joinRoom(room);
  const sub = newSubscription(name);
  await client.registerPush(sub.json);
  return { client, sub };
}

/** Waits until the server has handled the close of `userId`'s inbox socket (its log says so). */
async function inboxClosed(userId: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  const closed = () => chat.output().split("\n").some((line) => line.includes('"event":"close"') && line.includes(`"inbox":"${userId}"`));
  while (!closed()) {
    if (Date.now() > deadline) throw new Error(`the server did not log the close of ${userId}'s inbox\n${chat.output().slice(-2000)}`);
    await sleep(50);
  }
}

describe("push notifications for offline members", () => {
  it("deliver an encrypted, VAPID-signed notice the subscription's keys decrypt", async () => {
    const { alice, bob } = await pair("push-basic");
    const sub = newSubscription("bob");
    await bob.registerPush(sub.json);
    const sent = await alice.sendMessage("push-basic", "hello bob, are you there?");
    const [req] = await waitForRequests(sub.path, 1);
    expect(req!.headers["content-encoding"]).toBe("aes128gcm");
    expect(req!.headers.authorization).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);
    expect(Number(req!.headers.ttl)).toBeGreaterThan(0);
    expect(decrypt(sub, req!.body)).toEqual({
      type: "message",
      roomId: "push-basic",
      seq: sent.seq,
      messageId: sent.id,
      sender: "alice",
      preview: "hello bob, are you there?",
      ts: sent.ts,
    });
    // The sender is not notified of their own message.
    expect(received.filter((r) => r.path === sub.path)).toHaveLength(1);
    await bob.unregisterPush(sub.json.endpoint);
    alice.close();
    bob.close();
  });

  it("send none for a muted room, nor to a member with a live inbox socket", async () => {
    const { alice, bob, bobId } = await pair("push-quiet");
    const sub = newSubscription("bob-quiet");
    await bob.registerPush(sub.json);
    const carol = await witness("push-quiet", "carol");
    await bob.muteRoom("push-quiet");
    await alice.sendMessage("push-quiet", "muted");
    // Carol's push for the same message is the barrier: bob's job came first.
    await waitForPush(carol.sub, "muted");
    expect(received.filter((r) => r.path === sub.path)).toHaveLength(0);
    await bob.unmuteRoom("push-quiet");

    // The room decides about pushes when its outbox flushes, the same flush that tells the
    // inbox: once the inbox has heard of the message, the push jobs have been enqueued too.
    let heard = false;
    const inbox = await bob.subscribeInbox({ onActivity: (room) => (heard ||= JSON.stringify(room).includes("you are online")) });
    await alice.sendMessage("push-quiet", "you are online");
    for (let i = 0; i < 200 && !heard; i++) await sleep(50);
    expect(heard).toBe(true);
    await waitForPush(carol.sub, "you are online");
    expect(received.filter((r) => r.path === sub.path)).toHaveLength(0);
    inbox.close();
    await inboxClosed(bobId);

    await alice.sendMessage("push-quiet", "now you are not");
    const [req] = await waitForRequests(sub.path, 1);
    expect(decrypt(sub, req!.body)).toMatchObject({ roomId: "push-quiet", sender: "alice", preview: "now you are not" });
    alice.close();
    bob.close();
    carol.client.close();
  });

  it("retry a push the service failed (500), and remove a subscription it reports gone (410)", async () => {
    const { alice, bob } = await pair("push-faults");
    const flaky = newSubscription("bob-flaky");
    const gone = newSubscription("bob-gone");
    script.set(flaky.path, [500]);
    script.set(gone.path, [410]);
    await bob.registerPush(flaky.json);
    await bob.registerPush(gone.json);
    const dave = await witness("push-faults", "dave");
    await alice.sendMessage("push-faults", "try again");
    const attempts = await waitForRequests(flaky.path, 2, 20_000);
    expect(attempts.map((a) => a.status)).toEqual([500, 201]);
    for (const a of attempts) expect(decrypt(flaky, a.body)).toMatchObject({ preview: "try again" });
    await waitForRequests(gone.path, 1);
    // Dave's push comes after bob's job, which dropped the gone subscription before it ended.
    await waitForPush(dave.sub, "try again");
    // The 410 removed it: nothing left to unregister, and the next message skips it.
    expect(await bob.unregisterPush(gone.json.endpoint)).toBe(false);
    await alice.sendMessage("push-faults", "again");
    await waitForRequests(flaky.path, 3);
    // Bob's job for "again" has made every request it was going to once dave's push is here.
    await waitForPush(dave.sub, "again");
    expect(received.filter((r) => r.path === gone.path)).toHaveLength(1);
    expect(received.filter((r) => r.path === flaky.path)).toHaveLength(3);
    alice.close();
    bob.close();
    dave.client.close();
  });
});
