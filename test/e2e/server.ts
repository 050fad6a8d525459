/**
 * Starts the chat the way a user does (`npm start -- --port N`) on a free port
 * with its own local state directory, and stops it. Waits for /api/health.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { ChatClient, type WebSocketConstructor } from "../../src/client";

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalChat {
  baseUrl: string;
  port: number;
  stateDir: string;
  output: () => string;
  /** Kills the server (SIGKILL when `hard`), keeping its state directory. */
  kill(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and state. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  token(userId: string, admin?: boolean): Promise<string>;
  client(userId: string): Promise<ChatClient>;
}

/**
 * Vars for test servers: tests send hundreds of messages as fast as they can, and open
 * many sockets from one address (127.0.0.1) and user.
 */
const TEST_VARS: Record<string, string> = {
  SEND_RATE_PER_SECOND: "10000",
  SEND_BURST: "10000",
  USER_SEND_PER_MINUTE: "1000000",
  MAX_CONNECTIONS_PER_USER: "1000",
  // And every other per-user budget (src/room/budgets.ts, src/http/budgets.ts): tests mint tickets, join and read fast.
  USER_MUTATIONS_PER_MINUTE: "1000000",
  USER_READS_PER_MINUTE: "1000000",
  ROOM_MUTATIONS_PER_MINUTE: "1000000",
  ROOM_READS_PER_MINUTE: "1000000",
  ROOM_SIGNALS_PER_MINUTE: "1000000",
  UPGRADE_RATE_LIMIT: "off",
};

export interface LocalChatOptions {
  vars?: Record<string, string>;
  /**
   * Leave the dev secrets to `npm start` (generated into the state directory) instead of
   * passing AUTH_SECRET in the environment; VAPID_* from this environment are left out too.
   */
  secretsFromState?: boolean;
}

export async function startLocalChat(options: LocalChatOptions = {}): Promise<LocalChat> {
  const vars = Object.entries({ ...TEST_VARS, ...options.vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const port = await freePort();
  const inspector = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "edge-chat-e2e-"));
  const baseUrl = `http://127.0.0.1:${port}`;
  // Kept across restarts, so tokens issued before a restart stay valid after it.
  const secret = randomBytes(32).toString("base64url");
  let log = "";
  let child: ChildProcess | null = null;

  const launch = async () => {
    child = spawn("npm", ["start", "--", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspector), "--persist-to", stateDir, ...vars], {
      cwd: process.cwd(),
      // (spawn leaves out variables whose value is undefined)
      env: options.secretsFromState
        ? { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", AUTH_SECRET: undefined, VAPID_PUBLIC_KEY: undefined, VAPID_PRIVATE_KEY: undefined }
        : { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", AUTH_SECRET: secret },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout?.on("data", (d) => (log += d));
    child.stderr?.on("data", (d) => (log += d));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${log}`);
      try {
        const res = await fetch(`${baseUrl}/api/health`);
        if (res.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`server did not become healthy:\n${log}`);
  };

  const kill = async (hard = false) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    try {
      // The whole process group: npm, the start script, wrangler and workerd.
      process.kill(-proc.pid, hard ? "SIGKILL" : "SIGTERM");
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    // workerd drains on SIGTERM: it stops listening but keeps serving open WebSockets, so
    // a "stopped" server would keep old sockets alive beside its successor. Nothing of the
    // group may outlive a stop.
    const pid = proc.pid;
    for (let i = 0; i < 50 && groupAlive(pid); i++) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child = null;
  };

  await launch();

  const chat: LocalChat = {
    baseUrl,
    port,
    stateDir,
    output: () => log,
    kill,
    restart: launch,
    async stop() {
      await kill(false);
      rmSync(stateDir, { recursive: true, force: true });
    },
    async token(userId, admin = false) {
      const res = await fetch(`${baseUrl}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ userId, admin }),
      });
      if (!res.ok) throw new Error(`dev token ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    async client(userId) {
      const token = await chat.token(userId);
      return new ChatClient({ baseUrl, token, WebSocket: WebSocket as unknown as WebSocketConstructor });
    },
  };
  return chat;
}
