#!/usr/bin/env node
// `npm run bench [-- --quick]`: starts the chat and the baseline room in one
// local workerd (bench/wrangler.toml), drives both with load generator
// processes (bench/loadgen.mjs), prints a table of each figure as chat,
// baseline and their ratio, and writes the whole run to bench/results/.
// Only 127.0.0.1 is contacted; every loop is bounded.
import { fork, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const quick = process.argv.includes("--quick");
const profile = process.argv.includes("--profile");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

const SIZES = quick
  ? { fanout: [10, 100], rooms: 10, history: 100_000, historySmall: 1_000, storm: 100, stormGap: 100, idle: 500, idleRooms: 5, runMs: 2_000, reads: 40, workers: 3 }
  : { fanout: [10, 100, 500], rooms: 100, history: 1_000_000, historySmall: 1_000, storm: 500, stormGap: 100, idle: 5_000, idleRooms: 50, runMs: 6_000, reads: 300, workers: 3 };
// Idle at 5,000 fits this machine's 20,000 file descriptors only because load goes
// straight to the runtime (one descriptor per socket); through wrangler's dev proxy a
// socket held about six (bench/README.md, finding 6).
// One scenario at another size, for investigating it: BENCH_STORM=500, BENCH_ROOMS=100, ...
for (const key of ["storm", "rooms", "idle", "history"]) {
  const v = process.env[`BENCH_${key.toUpperCase()}`];
  if (v) SIZES[key] = Number(v);
}

// ---- the local stack ----------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = server.address().port;
      server.close(() => resolve(port));
    });
  });
}

function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone
    }
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    for (const c of children.get(p) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** Ports a process listens on (127.0.0.1), from /proc: its socket inodes matched to /proc/net/tcp. */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9])) continue;
    ports.push(parseInt(f[1].split(":")[1], 16));
  }
  return ports;
}

/**
 * The runtime's own HTTP socket: the listening port that answers the chat's health check.
 * Null when it cannot be found (no /proc, another layout): load then goes through the proxy.
 */
async function runtimeUrl(pid) {
  let ports = [];
  try {
    ports = pid ? listeningPorts(pid) : [];
  } catch {
    // no /proc here
  }
  for (const port of ports) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok && (await res.json()).ok === true) return url;
    } catch {
      // the inspector, or a socket that is not HTTP
    }
  }
  console.log("  could not find the runtime's own HTTP socket: load goes through wrangler's proxy");
  return null;
}

/** RSS in KiB of a process. */
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

async function startStack() {
  const port = await freePort();
  const inspector = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "edge-chat-bench-"));
  const config = join(here, "wrangler.toml");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "true" };
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", stateDir], { cwd: root, env, encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  const secret = randomBytes(32).toString("base64url");
  const child = spawn(
    "npx",
    ["wrangler", "dev", "-c", config, "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspector), "--persist-to", stateDir,
      "--var", "DEV_AUTH:true", "--var", `AUTH_SECRET:${secret}`, "--log-level", process.env.BENCH_LOG_LEVEL ?? "warn"],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let log = "";
  child.stdout.on("data", (d) => (log = (log + d).slice(-20_000)));
  child.stderr.on("data", (d) => (log = (log + d).slice(-20_000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${log}`);
    if (Date.now() > deadline) throw new Error(`wrangler dev not healthy:\n${log}`);
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) break;
    } catch {
      // not yet
    }
    await sleep(250);
  }
  // wrangler runs two workerd processes: a proxy and the runtime that hosts our
  // objects (the one with an inspector). Memory is read from the runtime.
  const runtime = descendants(child.pid).find((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      return cmd.includes("workerd") && cmd.includes("--inspector-addr");
    } catch {
      return false;
    }
  });
  // Load goes straight to the runtime's own socket, not through wrangler's dev proxy (a
  // second workerd, plus wrangler's node process, relaying every frame): deployed, the
  // edge terminates the sockets, and the proxy cost more CPU than the room on this
  // two-core machine, and held about six file descriptors per socket.
  const direct = process.env.BENCH_VIA_PROXY ? null : await runtimeUrl(runtime);
  return {
    baseUrl: direct ?? baseUrl,
    proxyUrl: baseUrl,
    inspector,
    pid: child.pid,
    runtimePid: runtime,
    log: () => log,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // gone
      }
      await Promise.race([exited, sleep(10_000)]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// ---- CPU profile of the workerd runtime (--profile), through wrangler's inspector ----

async function startProfiler() {
  const targets = await (await fetch(`http://127.0.0.1:${stack.inspector}/json/list`)).json();
  const target = targets.find((t) => !/proxy/i.test(t.title ?? "")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  let id = 0;
  const waiting = new Map();
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (m.id && waiting.has(m.id)) waiting.get(m.id)(m.result ?? m.error), waiting.delete(m.id);
  });
  const send = (method, params = {}) => new Promise((r) => { waiting.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  return async (label) => {
    const { profile: p } = await send("Profiler.stop");
    ws.close();
    // Self time per function, from the sample counts.
    const self = new Map();
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const counts = new Map();
    for (const sid of p.samples) counts.set(sid, (counts.get(sid) ?? 0) + 1);
    let total = 0;
    for (const [nid, c] of counts) {
      const f = byId.get(nid).callFrame;
      const key = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + c);
      total += c;
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
    console.log(`\n  CPU profile (${label}), self time, top 25 of ${total} samples:`);
    for (const [k, c] of top) console.log(`    ${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}`);
    const dir = join(here, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${label.replace(/\W+/g, "-")}.cpuprofile`), JSON.stringify(p));
  };
}

// ---- HTTP helpers ---------------------------------------------------------------

let stack;
const tokens = new Map();

async function api(method, path, body, token) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function token(userId) {
  if (!tokens.has(userId)) tokens.set(userId, (await api("POST", "/api/dev/token", { userId })).token);
  return tokens.get(userId);
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const out = new Array(items.length);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Creates a room owned by users[0] and joins the others; returns their tokens. */
async function chatRoom(roomId, users) {
  const toks = await pool(users, 32, token);
  await api("POST", "/api/rooms", { roomId }, toks[0]);
  await pool(toks.slice(1), 32, (t) => api("POST", `/api/rooms/${roomId}/join`, undefined, t));
  return toks;
}

// ---- load generator processes ---------------------------------------------------

let workers = [];
let callId = 0;
const pending = new Map();

function startWorkers(n) {
  workers = Array.from({ length: n }, () => {
    const w = fork(join(here, "loadgen.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    w.on("message", (m) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      m.ok ? p.resolve(m.result) : p.reject(new Error(m.error));
    });
    return w;
  });
  return all("init", () => ({ baseUrl: stack.baseUrl }));
}

function call(w, op, payload = {}) {
  const id = ++callId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.send({ ...payload, op, id });
  });
}

const all = (op, payload = () => ({})) => Promise.all(workers.map((w, i) => call(w, op, payload(i))));

function stopWorkers() {
  for (const w of workers) w.disconnect();
  workers = [];
}

/** Spreads socket specs over the workers round-robin and opens them. */
async function openSpecs(specs) {
  const slices = workers.map(() => []);
  specs.forEach((s, i) => slices[i % workers.length].push(s));
  const results = await all("open", (i) => ({ specs: slices[i] }));
  const failed = results.reduce((a, r) => a + r.failed, 0);
  if (failed) throw new Error(`${failed} sockets failed to open: ${results.flatMap((r) => r.errors).join("; ")}`);
  return results;
}

function mergeHist(parts) {
  const m = new Map();
  for (const arr of parts) for (let i = 0; i < arr.length; i += 2) m.set(arr[i], (m.get(arr[i]) ?? 0) + arr[i + 1]);
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

function percentile(hist, p) {
  const total = hist.reduce((a, [, c]) => a + c, 0);
  if (!total) return null;
  let seen = 0;
  for (const [b, c] of hist) {
    seen += c;
    if (seen >= total * p) return +(b * 0.05).toFixed(2);
  }
  return null;
}

async function collect() {
  const s = await all("stats");
  const sum = (k) => s.reduce((a, x) => a + x[k], 0);
  const firstSend = Math.min(...s.map((x) => x.firstSend ?? Infinity));
  const lastDeliver = Math.max(...s.map((x) => x.lastDeliver));
  const ack = mergeHist(s.map((x) => x.ackHist));
  const deliv = mergeHist(s.map((x) => x.delivHist));
  return {
    sent: sum("sent"),
    acks: sum("acks"),
    deliveries: sum("deliveries"),
    cutoffs: sum("cutoffs"),
    closedUnexpectedly: sum("closedUnexpectedly"),
    gaps: sum("gaps"),
    dups: sum("dups"),
    stalls: sum("stalls"),
    stallSamples: s.flatMap((x) => x.stallSamples),
    seconds: (lastDeliver - firstSend) / 1000,
    ackP50: percentile(ack, 0.5),
    ackP99: percentile(ack, 0.99),
    deliverP50: percentile(deliv, 0.5),
    deliverP99: percentile(deliv, 0.99),
  };
}

/** Runs senders for a while and waits (bounded) until every delivery has arrived. */
async function drive(senders, subscribers, durationMs) {
  await all("reset");
  const bySender = workers.map(() => []);
  // A sender lives in the worker that owns its socket; each worker ignores keys it does not own.
  for (const s of senders) for (const list of bySender) list.push(s);
  await all("run", (i) => ({ senders: bySender[i], durationMs }));
  let stats = await collect();
  const deadline = Date.now() + 15_000;
  while (stats.deliveries < stats.acks * subscribers && Date.now() < deadline) {
    await sleep(100);
    stats = await collect();
  }
  const rate = stats.seconds > 0 ? stats.deliveries / stats.seconds : 0;
  return { ...stats, deliveriesPerSec: Math.round(rate), messagesPerSec: Math.round(stats.acks / stats.seconds), expected: stats.acks * subscribers };
}

// ---- scenarios --------------------------------------------------------------------

const runId = Date.now().toString(36);
const results = { quick, startedAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, sizes: SIZES, scenarios: {} };
const rows = [];

function row(scenario, metric, chat, base, target) {
  const ratio = chat != null && base ? +(chat / base).toFixed(2) : null;
  let met = "";
  if (target) {
    const value = target.on === "value" ? chat : target.on === "self" ? target.self : ratio;
    met = value == null ? "?" : (target.op === ">=" ? value >= target.n : value <= target.n) ? "yes" : "NO";
  }
  rows.push({ scenario, metric, chat, baseline: base, ratio, target: target?.label ?? "", met });
}

async function fanout(n) {
  const out = { chat: {}, base: {} };
  const senders = Math.min(4, n);
  const keys = {};
  // Both sides' sockets stay open for the whole scenario (idle ones cost little),
  // so full-speed and fixed-rate runs can alternate between them.
  for (const proto of ["chat", "base"]) {
    const room = `${proto}-fan${n}-${runId}`;
    const users = Array.from({ length: n }, (_, i) => `fan${n}u${i}`);
    const toks = proto === "chat" ? await chatRoom(room, users) : [];
    await openSpecs(users.map((u, i) => ({ key: `${proto}-${u}`, proto, room, token: toks[i] })));
    keys[proto] = users.slice(0, senders).map((u) => `${proto}-${u}`);
  }
  for (const proto of ["base", "chat"]) {
    const stop = profile ? await startProfiler() : null;
    out[proto].full = await drive(keys[proto].map((key) => ({ key, mode: "window", window: 8 })), n, SIZES.runMs);
    await stop?.(`${proto} fan-out ${n} full speed`);
  }
  // The fixed rate is half of what the slower side sustained at full speed: a load both should
  // carry without queueing, so its latencies compare the two paths rather than two backlogs.
  const fixedRate = Math.max(5, Math.round(Math.min(out.base.full.messagesPerSec, out.chat.full.messagesPerSec) / 2));
  for (const proto of ["base", "chat"]) {
    out[proto].fixed = await drive(keys[proto].map((key) => ({ key, mode: "rate", rate: fixedRate / senders })), n, SIZES.runMs);
    out[proto].fixedRateMsgsPerSec = fixedRate;
  }
  await all("close");
  results.scenarios[`fanout_${n}`] = out;
  const { chat: c, base: b } = out;
  const s = `fan-out ${n} subs`;
  row(s, "deliveries/s (full speed)", c.full.deliveriesPerSec, b.full.deliveriesPerSec, { op: ">=", n: 0.8, label: ">= 0.8x" });
  row(s, "ack p50 ms (full speed)", c.full.ackP50, b.full.ackP50);
  row(s, "ack p99 ms (full speed)", c.full.ackP99, b.full.ackP99);
  row(s, "deliver p50 ms (full speed)", c.full.deliverP50, b.full.deliverP50);
  row(s, "deliver p99 ms (full speed)", c.full.deliverP99, b.full.deliverP99, { op: "<=", n: 1.5, label: "<= 1.5x" });
  row(s, `ack p50 ms (${fixedRate} msg/s)`, c.fixed.ackP50, b.fixed.ackP50);
  row(s, `ack p99 ms (${fixedRate} msg/s)`, c.fixed.ackP99, b.fixed.ackP99);
  row(s, `deliver p50 ms (${fixedRate} msg/s)`, c.fixed.deliverP50, b.fixed.deliverP50);
  row(s, `deliver p99 ms (${fixedRate} msg/s)`, c.fixed.deliverP99, b.fixed.deliverP99, { op: "<=", n: 1.5, label: "<= 1.5x" });
  row(s, "lost deliveries (chat: + cut-offs)", c.full.expected - c.full.deliveries + c.fixed.expected - c.fixed.deliveries, b.full.expected - b.full.deliveries + b.fixed.expected - b.fixed.deliveries);
}

async function manyRooms() {
  const out = {};
  const r = SIZES.rooms;
  for (const proto of ["chat", "base"]) {
    const specs = [];
    const senders = [];
    await pool(Array.from({ length: r }, (_, i) => i), 8, async (i) => {
      const room = `${proto}-rooms${i}-${runId}`;
      const users = Array.from({ length: 5 }, (_, j) => `room${i}u${j}`);
      const toks = proto === "chat" ? await chatRoom(room, users) : [];
      users.forEach((u, j) => specs.push({ key: `${proto}-${room}-${u}`, proto, room, token: toks[j] }));
      senders.push({ key: `${proto}-${room}-${users[0]}`, mode: "window", window: 1 });
    });
    await openSpecs(specs);
    const stop = profile ? await startProfiler() : null;
    out[proto] = await drive(senders, 5, SIZES.runMs);
    await stop?.(`${proto} ${r} rooms`);
    await all("close");
  }
  results.scenarios.many_rooms = out;
  const s = `${r} rooms x 5`;
  row(s, "deliveries/s", out.chat.deliveriesPerSec, out.base.deliveriesPerSec);
  row(s, "messages/s", out.chat.messagesPerSec, out.base.messagesPerSec);
  row(s, "ack p50 ms", out.chat.ackP50, out.base.ackP50);
  row(s, "ack p99 ms", out.chat.ackP99, out.base.ackP99);
  row(s, "deliver p50 ms", out.chat.deliverP50, out.base.deliverP50);
  row(s, "deliver p99 ms", out.chat.deliverP99, out.base.deliverP99);
}

async function timeReads(n, fn) {
  for (let i = 0; i < 5; i++) await fn();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn();
    samples.push(now() - t);
  }
  samples.sort((a, b) => a - b);
  const q = (p) => +samples[Math.min(samples.length - 1, Math.floor(samples.length * p))].toFixed(2);
  return { p50: q(0.5), p99: q(0.99) };
}

async function history() {
  const out = {};
  const BATCHES = 20;
  for (const size of [SIZES.historySmall, SIZES.history]) {
    // chat
    const room = `hist${size}-${runId}`;
    const [tok] = await chatRoom(room, [`hist${size}owner`]);
    const batches = [];
    const seedStart = now();
    for (let i = 0; i < BATCHES; i++) {
      batches.push(await api("POST", `/api/dev/rooms/${room}/seed`, { userId: `hist${size}owner`, count: size / BATCHES }));
      await sleep(3);
    }
    const chatSeedSec = (now() - seedStart) / 1000;
    const get = (q) => api("GET", `/api/rooms/${room}/messages?${q}`, undefined, tok);
    // A cursor deep in the past: the page before the sixth seeded batch (a quarter of the way in), then its nextCursor.
    const deepStart = await get(`limit=50&beforeTs=${new Date(batches[5].ts).toISOString()}`);
    if (!deepStart.nextCursor) throw new Error("no cursor deep in the past");
    const from = new Date(batches[BATCHES / 2].ts).toISOString();
    const to = new Date(batches[BATCHES / 2 + 1].ts).toISOString();
    const check = await get(`limit=50&cursor=${deepStart.nextCursor}`);
    if (check.messages.length !== 50) throw new Error(`deep page has ${check.messages.length} messages`);
    const chat = {
      seedSeconds: chatSeedSec,
      latest: await timeReads(SIZES.reads, () => get("limit=50")),
      deep: await timeReads(SIZES.reads, () => get(`limit=50&cursor=${deepStart.nextCursor}`)),
      range: await timeReads(SIZES.reads, () => get(`limit=50&from=${from}&to=${to}`)),
    };
    // baseline
    const broom = `bhist${size}-${runId}`;
    const bb = [];
    for (let i = 0; i < BATCHES; i++) {
      bb.push(await (await fetch(`${stack.baseUrl}/baseline/seed?room=${broom}&count=${size / BATCHES}`)).json());
      await sleep(3);
    }
    const bget = async (q) => (await fetch(`${stack.baseUrl}/baseline/history?room=${broom}&${q}`)).json();
    const base = {
      latest: await timeReads(SIZES.reads, () => bget("")),
      deep: await timeReads(SIZES.reads, () => bget(`before=${bb[4].toSeq - 50}`)),
      range: await timeReads(SIZES.reads, () => bget(`from=${bb[BATCHES / 2].ts}&to=${bb[BATCHES / 2 + 1].ts}`)),
    };
    out[size] = { chat, base };
  }
  results.scenarios.history = out;
  const small = out[SIZES.historySmall];
  const big = out[SIZES.history];
  const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  for (const kind of ["latest", "deep", "range"]) {
    for (const p of ["p50", "p99"]) {
      row(`history ${label(SIZES.history)}`, `${kind} page ${p} ms`, big.chat[kind][p], big.base[kind][p], {
        on: "self", self: +(big.chat[kind][p] / small.chat[kind][p]).toFixed(2), op: "<=", n: 1.2, label: `<= 1.2x the ${label(SIZES.historySmall)} figure (${(big.chat[kind][p] / small.chat[kind][p]).toFixed(2)}x)`,
      });
      row(`history ${label(SIZES.historySmall)}`, `${kind} page ${p} ms`, small.chat[kind][p], small.base[kind][p]);
    }
  }
}

/** Opens a plain socket from this process and sends `n` baseline messages, each after the last one's echo. */
async function baselineSend(room, n) {
  const ws = new WebSocket(`${stack.baseUrl.replace("http", "ws")}/baseline/ws?room=${room}`);
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  for (let i = 0; i < n; i++) {
    const echoed = new Promise((r) => ws.once("message", r));
    ws.send(JSON.stringify({ content: `B|${now().toFixed(3)}|storm-writer|gap ${i}` }));
    await echoed;
  }
  ws.close();
}

async function storm() {
  const out = {};
  const n = SIZES.storm;
  const gap = SIZES.stormGap;
  for (const proto of ["chat", "base"]) {
    const room = `${proto}-storm-${runId}`;
    const users = Array.from({ length: n }, (_, i) => `storm${i}`);
    const toks = proto === "chat" ? await chatRoom(room, users) : [];
    await openSpecs(users.map((u, i) => ({ key: `${proto}-${u}`, proto, room, token: toks[i] })));
    await all("reset");
    await all("drop");
    await sleep(500);
    if (proto === "chat") {
      for (let i = 0; i < gap; i++) await api("POST", `/api/rooms/${room}/messages`, { content: `gap ${i}`, clientId: `gap-${i}` }, toks[0]);
    } else {
      await baselineSend(room, gap);
    }
    const stallsBefore = (await collect()).stalls;
    const t0 = now();
    const res = await all("resume", () => ({ baseAfter: 0 }));
    const failed = res.reduce((a, r) => a + r.failed, 0);
    const lastLive = Math.max(...res.map((r) => r.lastLive));
    const replayed = res.reduce((a, r) => a + r.replayed, 0);
    const stats = await collect();
    // A socket that could not reconnect lost its whole gap.
    const lost = n * gap - replayed + stats.gaps;
    const errors = res.flatMap((r) => r.errors);
    if (errors.length) console.log(`    ${proto}: ${failed} reconnects failed, e.g. ${errors[0]}\n${stack.log().split("\n").filter((l) => /error|warn/i.test(l)).slice(-5).join("\n")}`);
    out[proto] = { seconds: +((lastLive - t0) / 1000).toFixed(2), replayed, expected: n * gap, lost, failed, errors, dups: stats.dups, stalledReconnects: stats.stalls - stallsBefore };
    await all("close");
  }
  results.scenarios.storm = out;
  if (process.env.BENCH_DEBUG) console.log(stack.log().split("\n").filter((l) => !/Request\.cf|ENOTFOUND|^\s+at /.test(l)).slice(-40).join("\n"));
  const s = `reconnect storm ${n}`;
  row(s, "seconds until all live", out.chat.seconds, out.base.seconds, { on: "value", op: "<=", n: 10, label: "<= 10 s" });
  row(s, `events lost (of ${n * gap})`, out.chat.lost, out.base.lost, { on: "value", op: "<=", n: 0, label: "0" });
  row(s, "reconnects stalled > 10 s, retried", out.chat.stalledReconnects, out.base.stalledReconnects);
}

async function idle() {
  const out = {};
  const n = SIZES.idle;
  const roomsN = SIZES.idleRooms;
  const perRoom = n / roomsN;
  const usersPerRoom = 10;
  // Each side in a fresh workerd of its own, so one side's freed memory does not
  // flatter the other; both run at once, so one hibernation wait serves both.
  await stack.stop();
  stack = null;
  const [chatStack, baseStack] = await Promise.all([startStack(), startStack()]);
  const stacks = { chat: chatStack, base: baseStack };
  try {
    stack = chatStack; // api() and token() talk to the chat
    tokens.clear();
    await all("init", () => ({ baseUrl: chatStack.baseUrl }));
    const specs = { chat: [], base: [] };
    for (const proto of ["chat", "base"]) {
      await pool(Array.from({ length: roomsN }, (_, i) => i), 8, async (i) => {
        const room = `${proto}-idle${i}`;
        const users = Array.from({ length: usersPerRoom }, (_, j) => `idle${i}u${j}`);
        const toks = proto === "chat" ? await chatRoom(room, users) : [];
        if (proto === "base") await fetch(`${baseStack.baseUrl}/baseline/history?room=${room}`);
        for (let d = 0; d < perRoom; d++) specs[proto].push({ key: `${proto}-${room}-${d}`, proto, room, token: toks[d % usersPerRoom], baseUrl: stacks[proto].baseUrl });
      });
    }
    await sleep(2_000);
    const rss = () => ({ chat: rssKiB(chatStack.runtimePid), base: rssKiB(baseStack.runtimePid) });
    const before = rss();
    for (const proto of ["chat", "base"]) {
      try {
        await openSpecs(specs[proto]);
      } catch (e) {
        const log = stacks[proto].log().split("\n").filter((l) => l.trim() && !/Request\.cf|ENOTFOUND|^\s+at /.test(l));
        console.error(`  ${proto} workerd's last words:\n${log.slice(-15).join("\n")}`);
        throw e;
      }
    }
    await sleep(2_000);
    const open = rss();
    if (process.env.BENCH_DEBUG) {
      for (const [proto, st] of Object.entries(stacks)) {
        const fds = descendants(st.pid).map((p) => { try { return `${p}:${readdirSync(`/proc/${p}/fd`).length}`; } catch { return `${p}:-`; } });
        console.log(`  ${proto} fds per process: ${fds.join(" ")}`);
      }
    }
    await sleep(15_000); // hibernation after about 10 s idle
    const hibernated = rss();
    for (const proto of ["chat", "base"]) {
      out[proto] = {
        rssBeforeKiB: before[proto],
        rssOpenKiB: open[proto],
        rssHibernatedKiB: hibernated[proto],
        perConnOpenKiB: +((open[proto] - before[proto]) / n).toFixed(2),
        perConnHibernatedKiB: +((hibernated[proto] - before[proto]) / n).toFixed(2),
      };
    }
    await all("close");
  } finally {
    await baseStack.stop();
  }
  results.scenarios.idle = out;
  const s = `idle ${n} conns / ${roomsN} rooms`;
  row(s, "workerd RSS KiB per conn, open", out.chat.perConnOpenKiB, out.base.perConnOpenKiB);
  row(s, "workerd RSS KiB per conn, hibernated", out.chat.perConnHibernatedKiB, out.base.perConnHibernatedKiB);
}

// ---- main ---------------------------------------------------------------------------

function printTable() {
  const cols = ["scenario", "metric", "chat", "baseline", "ratio", "target", "met"];
  const cells = rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? "-" : String(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals) => vals.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ");
  console.log(line(cols));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

const started = Date.now();
let failed = false;
try {
  console.log(`bench (${quick ? "quick" : "full"}): starting the local stack`);
  stack = await startStack();
  console.log(`  load goes to ${stack.baseUrl}${stack.baseUrl === stack.proxyUrl ? " (through wrangler's proxy)" : " (the runtime's own socket)"}`);
  await startWorkers(SIZES.workers);
  const steps = [
    ...SIZES.fanout.map((n) => [`fanout`, () => fanout(n), `fan-out ${n}`]),
    ["rooms", manyRooms, `${SIZES.rooms} rooms`],
    ["history", history, "history"],
    ["storm", storm, "reconnect storm"],
    ["idle", idle, "idle connections"],
  ];
  for (const [name, fn, label] of steps) {
    if (only && !only.includes(name)) continue;
    const t = Date.now();
    try {
      await fn();
      console.log(`  ${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } catch (e) {
      // One broken scenario must not hide the others' figures; the run still fails.
      failed = true;
      (results.errors ??= []).push({ scenario: label, error: String(e?.stack ?? e) });
      console.error(`  ${label} failed: ${e?.stack ?? e}`);
      await all("close").catch(() => {});
    }
  }
} catch (e) {
  failed = true;
  console.error(`bench failed: ${e?.stack ?? e}`);
  if (stack) console.error(stack.log().slice(-3000));
} finally {
  if (workers.length) {
    try {
      const c = await collect();
      results.stalledOpens = { count: c.stalls, samples: c.stallSamples };
      if (c.stalls) console.log(`  ${c.stalls} socket opens stalled > 10 s and were retried, e.g. ${c.stallSamples[0]}`);
    } catch {
      // workers gone
    }
  }
  stopWorkers();
  if (process.env.BENCH_DEBUG && stack) writeFileSync("/tmp/bench-wrangler.log", stack.log());
  await stack?.stop();
}
results.seconds = Math.round((Date.now() - started) / 1000);
results.table = rows;
printTable();
const dir = join(here, "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replaceAll(":", "-").replace(/\..*/, "")}${quick ? "-quick" : ""}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\n${results.seconds} s; results in ${file}`);
process.exit(failed ? 1 : 0);
