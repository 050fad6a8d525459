/**
 * `npm start` keeps its dev secrets in the local state directory: a restart on
 * the same state keeps every session (a token issued before still sends) and
 * the VAPID key push subscriptions were made for; and no secret is on the
 * command line of any process it starts.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "./server";

const stateDir = mkdtempSync(join(tmpdir(), "edge-chat-secrets-"));
let child: ChildProcess | null = null;
let output = "";

async function start(port: number, inspector: number): Promise<void> {
  // Nothing from this environment may supply the secrets: they must come from the state directory.
  // (spawn leaves out variables whose value is undefined)
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", AUTH_SECRET: undefined, VAPID_PUBLIC_KEY: undefined, VAPID_PRIVATE_KEY: undefined };
  child = spawn("npm", ["start", "--", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspector), "--persist-to", stateDir], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not become healthy:\n${output}`);
}

async function stop(): Promise<void> {
  const proc = child;
  child = null;
  if (!proc?.pid || proc.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  process.kill(-proc.pid, "SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {
    // the group is gone
  }
}

afterAll(async () => {
  await stop();
  rmSync(stateDir, { recursive: true, force: true });
});

it("a token issued before a restart still sends after it, with the same VAPID key, and no secret on a command line", async () => {
  const [port, inspector] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  await start(port, inspector);
  const { token } = (await (await fetch(`${base}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"userId":"keeper"}' })).json()) as { token: string };
  const keyBefore = (await (await fetch(`${base}/api/push/vapid-public-key`, { headers: { authorization: `Bearer ${token}` } })).json()) as { publicKey: string | null };
  expect(keyBefore.publicKey).toMatch(/^[A-Za-z0-9_-]{80,}$/);

  const secret = /^AUTH_SECRET=(.+)$/m.exec(readFileSync(join(stateDir, "edge-chat-dev.env"), "utf8"))?.[1];
  expect(secret).toBeTruthy();
  const commandLines = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  expect(commandLines).not.toContain(secret!);
  expect(commandLines).not.toContain(keyBefore.publicKey!);

  await stop();
  await start(port, inspector);
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const created = await fetch(`${base}/api/rooms`, { method: "POST", headers: auth, body: '{"roomId":"kept-session"}' });
  expect(created.status).toBe(201);
  const sent = await fetch(`${base}/api/rooms/kept-session/messages`, { method: "POST", headers: auth, body: '{"content":"still signed in"}' });
  expect(sent.status).toBe(201);
  const keyAfter = (await (await fetch(`${base}/api/push/vapid-public-key`, { headers: { authorization: `Bearer ${token}` } })).json()) as { publicKey: string | null };
  expect(keyAfter.publicKey).toBe(keyBefore.publicKey);
}, 240_000);
