// Load generator process (forked by bench/run.mjs). Owns a slice of the sockets,
// sends and receives on them, and reports counts and latency histograms to the
// parent over IPC. Talks only to 127.0.0.1; every loop is bounded by a duration
// or a count the parent gives.
//
// Timestamps come from the monotonic clock (process.hrtime), which on Linux is
// one clock for all processes, so a send time written by one process can be
// compared with a receive time read in another.
import WebSocket from "ws";

const now = () => Number(process.hrtime.bigint()) / 1e6;
const BUCKET_MS = 0.05;
const BUCKETS = 1_200_000; // 60 s at 0.05 ms

const PAD = "x".repeat(80);
let baseUrl = "";
let wsBase = "";

/** key -> socket record */
const sockets = new Map();
const stats = newStats();

function newStats() {
  return {
    deliveries: 0,
    acks: 0,
    sent: 0,
    firstSend: Infinity,
    lastDeliver: 0,
    cutoffs: 0,
    closedUnexpectedly: 0,
    gaps: 0,
    dups: 0,
    stalls: 0,
    stallSamples: [],
    ackHist: new Uint32Array(BUCKETS),
    delivHist: new Uint32Array(BUCKETS),
  };
}

function record(hist, ms) {
  const b = Math.min(BUCKETS - 1, Math.max(0, Math.round(ms / BUCKET_MS)));
  hist[b]++;
}

function sparse(hist) {
  const out = [];
  for (let i = 0; i < hist.length; i++) if (hist[i] !== 0) out.push(i, hist[i]);
  return out;
}

/** Content of a bench message: B|<send time>|<sender key>|padding */
function parseContent(text) {
  const i = text.indexOf('"content":"B|');
  if (i < 0) return null;
  const j = i + 13;
  const k = text.indexOf("|", j);
  const k2 = text.indexOf("|", k + 1);
  return { t: Number(text.slice(j, k)), key: text.slice(k + 1, k2) };
}

function topSeq(text) {
  const i = text.indexOf('"seq":');
  if (i < 0) return -1;
  return parseInt(text.slice(i + 6, i + 24), 10);
}

/** A spec may name its own server (the idle scenario runs two at once). */
const wsOf = (spec) => (spec.baseUrl ? spec.baseUrl.replace(/^http/, "ws") : wsBase);

async function ticketUrl(spec) {
  const res = await fetch(`${spec.baseUrl ?? baseUrl}/api/rooms/${spec.room}/connect-ticket`, {
    method: "POST",
    headers: { authorization: `Bearer ${spec.token}` },
  });
  if (!res.ok) throw new Error(`connect-ticket ${res.status} ${await res.text()}`);
  const body = await res.json();
  return `${wsOf(spec)}${body.url}`;
}

/**
 * Opens one socket; resolves once it is live. A socket not live within 10 s is
 * dropped and opened again (as the SDK's heartbeat would), at most twice; each
 * such stall is counted and reported.
 */
async function openSocket(spec) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openSocketOnce(spec);
    } catch (e) {
      if (attempt >= 2) throw e;
      stats.stalls++;
      if (stats.stallSamples.length < 3) stats.stallSamples.push(String(e));
      sockets.get(spec.key)?.ws?.terminate();
    }
  }
}

async function openSocketOnce(spec) {
  const prev = sockets.get(spec.key);
  const s = prev ?? {
    key: spec.key,
    spec,
    ws: null,
    epoch: "",
    seq: 0,
    sinceProgress: 0,
    outstanding: 0,
    sender: null,
    received: 0,
    live: false,
    dropping: false,
    replayExpected: 0,
  };
  s.spec = spec;
  s.live = false;
  s.dropping = false;
  s.received = 0;
  s.frames = 0;
  sockets.set(spec.key, s);
  const url = spec.proto === "chat" ? await ticketUrl(spec) : `${wsOf(spec)}/baseline/ws?room=${spec.room}${spec.after !== undefined ? `&after=${spec.after}` : ""}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    s.ws = ws;
    const timer = setTimeout(() => reject(new Error(`socket ${spec.key} not live in 10 s (ws state ${s.ws?.readyState}, ${s.frames} frames) ${s.lastError ?? ""}`)), 10_000);
    const becameLive = () => {
      s.live = true;
      clearTimeout(timer);
      resolve(now());
    };
    ws.on("open", () => {
      if (spec.proto === "chat") {
        const hello = { type: "hello", protocol: 1 };
        if (spec.resume && s.epoch) hello.after = { epoch: s.epoch, seq: s.seq };
        ws.send(JSON.stringify(hello));
      } else if (spec.after === undefined) {
        becameLive();
      }
    });
    ws.on("message", (data) => onFrame(s, data.toString(), becameLive));
    ws.on("error", (e) => {
      clearTimeout(timer);
      if (!s.live) reject(e);
    });
    ws.on("close", (code, reason) => {
      if (!s.live) {
        clearTimeout(timer);
        reject(new Error(`socket ${spec.key} closed before live: ${code} ${reason}`));
      }
      if (code === 4008) { stats.cutoffs++; if (process.env.BENCH_DEBUG) console.error(`cut off: ${spec.key} sender=${Boolean(s.sender)} seq=${s.seq} received=${s.received} buffered=${s.ws.bufferedAmount}`); }
      else if (!s.dropping) stats.closedUnexpectedly++;
      s.live = false;
    });
  });
}

function onFrame(s, text, becameLive) {
  const t = now();
  s.frames = (s.frames ?? 0) + 1;
  if (s.spec.proto === "chat") {
    if (text.startsWith('{"type":"event"')) {
      const seq = topSeq(text);
      if (seq === s.seq + 1 || s.seq === 0) s.seq = seq;
      else if (seq <= s.seq) stats.dups++;
      else {
        stats.gaps += seq - s.seq - 1;
        s.seq = seq;
      }
      s.received++;
      // The SDK's rule (src/client/subscription.ts): every 100 events, or once a second.
      s.sinceProgress++;
      if (s.sinceProgress >= 100 || t - (s.progressAt ?? 0) >= 1000) {
        s.sinceProgress = 0;
        s.progressAt = t;
        s.ws.send(`{"type":"progress","seq":${s.seq}}`);
      }
      const c = parseContent(text);
      if (c && s.live) {
        stats.deliveries++;
        stats.lastDeliver = t;
        record(stats.delivHist, t - c.t);
      }
    } else if (text.startsWith('{"type":"ack"')) {
      const c = parseContent(text);
      if (c) {
        stats.acks++;
        record(stats.ackHist, t - c.t);
      }
      s.outstanding--;
      s.sender?.pump();
    } else if (text.startsWith('{"type":"live"')) {
      const m = /"epoch":"([^"]+)","seq":(\d+)/.exec(text);
      if (m) {
        if (s.epoch && s.spec.resume && Number(m[2]) !== s.seq) stats.gaps += Math.max(0, Number(m[2]) - s.seq);
        s.epoch = m[1];
        s.seq = Number(m[2]);
      }
      becameLive();
    } else if (text.startsWith('{"type":"resync"')) {
      stats.gaps += 1_000_000; // a resume that could not be replayed counts as loss here
      becameLive();
    } else if (text.startsWith('{"type":"error"')) {
      if (!s.live) s.lastError = text;
      s.outstanding--;
      s.sender?.pump();
    }
  } else {
    if (text === '{"type":"live"}') return becameLive();
    s.received++;
    const c = parseContent(text);
    if (!c) return;
    if (s.live) {
      stats.deliveries++;
      stats.lastDeliver = t;
      record(stats.delivHist, t - c.t);
    }
    if (c.key === s.key) {
      stats.acks++;
      record(stats.ackHist, t - c.t);
      s.outstanding--;
      s.sender?.pump();
    }
  }
}

function sendOne(s) {
  const t = now();
  if (t < stats.firstSend) stats.firstSend = t;
  const content = `B|${t.toFixed(3)}|${s.key}|${PAD}`;
  stats.sent++;
  s.outstanding++;
  s.n = (s.n ?? 0) + 1;
  if (s.spec.proto === "chat") {
    s.ws.send(JSON.stringify({ type: "send", reqId: String(s.n), content, clientId: `${s.key}-${s.n}-${process.pid}` }));
  } else {
    s.ws.send(JSON.stringify({ content }));
  }
}

/** Runs the senders for `durationMs`, then waits (bounded) for their outstanding acks. */
async function run({ senders, durationMs }) {
  const mine = senders.map((cfg) => ({ cfg, s: sockets.get(cfg.key) })).filter((x) => x.s);
  let sending = true;
  const intervals = [];
  for (const { cfg, s } of mine) {
    s.outstanding = 0;
    if (cfg.mode === "window") {
      s.sender = {
        pump() {
          while (sending && s.outstanding < cfg.window && s.live) sendOne(s);
        },
      };
      s.sender.pump();
    } else {
      let credit = 0;
      s.sender = { pump() {} };
      const tick = 5;
      let last = now();
      intervals.push(
        setInterval(() => {
          const t = now();
          credit += ((t - last) / 1000) * cfg.rate;
          last = t;
          while (sending && credit >= 1 && s.outstanding < 1000 && s.live) {
            credit--;
            sendOne(s);
          }
        }, tick),
      );
    }
  }
  await new Promise((r) => setTimeout(r, durationMs));
  sending = false;
  for (const i of intervals) clearInterval(i);
  const deadline = now() + 20_000;
  while (now() < deadline && mine.some(({ s }) => s.outstanding > 0 && s.live)) await new Promise((r) => setTimeout(r, 20));
  for (const { s } of mine) s.sender = null;
  return { outstanding: mine.reduce((a, { s }) => a + Math.max(0, s.outstanding), 0) };
}

async function openAll(specs, concurrency = 32) {
  const started = now();
  let next = 0;
  let lastLive = started;
  let failed = 0;
  const errors = [];
  async function lane() {
    while (next < specs.length) {
      const spec = specs[next++];
      try {
        const t = await openSocket(spec);
        if (t > lastLive) lastLive = t;
      } catch (e) {
        failed++;
        if (errors.length < 3) errors.push(String(e));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, lane));
  return { started, lastLive, failed, errors };
}

const handlers = {
  init(msg) {
    baseUrl = msg.baseUrl;
    wsBase = baseUrl.replace(/^http/, "ws");
    return {};
  },
  open: (msg) => openAll(msg.specs, msg.concurrency),
  run,
  reset() {
    // Stalled opens are counted for the whole run.
    Object.assign(stats, { ...newStats(), stalls: stats.stalls, stallSamples: stats.stallSamples });
    return {};
  },
  stats() {
    return {
      deliveries: stats.deliveries,
      acks: stats.acks,
      sent: stats.sent,
      firstSend: stats.firstSend === Infinity ? null : stats.firstSend,
      lastDeliver: stats.lastDeliver,
      cutoffs: stats.cutoffs,
      closedUnexpectedly: stats.closedUnexpectedly,
      gaps: stats.gaps,
      dups: stats.dups,
      stalls: stats.stalls,
      stallSamples: stats.stallSamples,
      ackHist: sparse(stats.ackHist),
      delivHist: sparse(stats.delivHist),
    };
  },
  /** Drops every socket at once (as a network loss would: no close handshake). */
  drop() {
    for (const s of sockets.values()) {
      s.dropping = true;
      s.live = false;
      s.ws?.terminate();
    }
    return { dropped: sockets.size };
  },
  /** Reopens every socket, chat ones resuming from their own position. */
  async resume(msg) {
    const specs = [...sockets.values()].map((s) => ({ ...s.spec, resume: true, after: s.spec.proto === "base" ? msg.baseAfter : undefined }));
    const before = new Map([...sockets.values()].map((s) => [s.key, s.seq]));
    const result = await openAll(specs, msg.concurrency ?? 500);
    // Replayed events per socket (chat: counted by seq; baseline: frames before live).
    let replayed = 0;
    for (const s of sockets.values()) replayed += s.spec.proto === "chat" ? s.seq - (before.get(s.key) ?? 0) : s.received;
    return { ...result, replayed };
  },
  close() {
    for (const s of sockets.values()) {
      s.dropping = true;
      try {
        s.ws?.close(1000);
      } catch {
        s.ws?.terminate();
      }
    }
    sockets.clear();
    return {};
  },
};

process.on("message", async (msg) => {
  try {
    const result = await handlers[msg.op](msg);
    process.send({ id: msg.id, ok: true, result });
  } catch (e) {
    process.send({ id: msg.id, ok: false, error: String(e?.stack ?? e) });
  }
});
process.on("disconnect", () => process.exit(0));
