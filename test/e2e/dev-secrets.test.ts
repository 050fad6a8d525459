/**
 * `npm start` keeps its dev secrets in the local state directory: a restart on
 * the same state keeps every session (a token issued before still sends) and
 * the VAPID key push subscriptions were made for; and no secret is on the
 * command line of any process it starts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalChat, startLocalChat } from "./server";

let server: LocalChat;
beforeAll(async () => {
  server = await startLocalChat({ secretsFromState: true });
});
afterAll(async () => {
  await server?.stop();
});

it("a token issued before a restart still sends after it, with the same VAPID key, and no secret on a command line", async () => {
  const token = await server.token("keeper");
  const vapidKey = async () =>
    ((await (await fetch(`${server.baseUrl}/api/push/vapid-public-key`, { headers: { authorization: `Bearer ${token}` } })).json()) as { publicKey: string | null }).publicKey;
  const keyBefore = await vapidKey();
  expect(keyBefore).toMatch(/^[A-Za-z0-9_-]{80,}$/);

  const secret = /^AUTH_SECRET=(.+)$/m.exec(readFileSync(join(server.stateDir, "edge-chat-dev.env"), "utf8"))?.[1];
  expect(secret).toBeTruthy();
  const commandLines = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  expect(commandLines).not.toContain(secret!);
  expect(commandLines).not.toContain(keyBefore!);

  await server.kill();
  await server.restart();
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const created = await fetch(`${server.baseUrl}/api/rooms`, { method: "POST", headers: auth, body: '{"roomId":"kept-session"}' });
  expect(created.status).toBe(201);
  const sent = await fetch(`${server.baseUrl}/api/rooms/kept-session/messages`, { method: "POST", headers: auth, body: '{"content":"still signed in"}' });
  expect(sent.status).toBe(201);
  expect(await vapidKey()).toBe(keyBefore);
}, 240_000);
