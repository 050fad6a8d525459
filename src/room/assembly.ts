/**
 * Builds one room instance's modules, once per constructor run: the state
 * and its table owners, the sockets, the features and the alarm's jobs in
 * the order they run. The Room keeps what this returns and delegates to it.
 */
import type { Clock } from "../kernel/clock";
import { type MediaConfig, configOf } from "../kernel/config";
import { roomMediaPrefix } from "../media/keys";
import { Metrics, type MetricsSnapshot, metricsSink } from "../ops/metrics";
import { LiveSockets, type SocketState } from "./connections";
import { Feed, type SocketDirectory } from "./feed";
import { FrameQueues } from "./frame-queue";
import type { FrameContext } from "./frames";
import { Deliverer } from "./inbox-delivery";
import { METRICS_KEY, MediaCleanupJob, OutboxJob, SaveMetricsJob } from "./jobs";
import { RoomMetaStore } from "./meta";
import { Presence } from "./presence";
import { PurgeJob } from "./purge";
import { Receipts } from "./receipts";
import { RetentionJob } from "./retention";
import { type AlarmJob, AlarmScheduler } from "./scheduler";
import { SendPath } from "./sending";
import { SocketGate } from "./socket-gate";
import { RoomState } from "./state";
import { Typing } from "./typing";

export interface RoomParts {
  state: RoomState;
  sockets: LiveSockets;
  presence: Presence;
  receipts: Receipts;
  metrics: Metrics;
  media: MediaConfig;
  scheduler: AlarmScheduler;
  typing: Typing;
  sends: SendPath;
  gate: SocketGate;
  deliverer: Deliverer;
  outboxJob: OutboxJob;
  purgeJob: PurgeJob;
  /** The alarm's jobs, in the order they run. */
  jobs: readonly AlarmJob[];
  frames: FrameContext;
}

/** `directory`: the sockets partyserver holds for this room (the Room itself, a partyserver Server). */
export function assembleRoom(ctx: DurableObjectState, env: Env, clock: Clock, directory: SocketDirectory): RoomParts {
  const sql = ctx.storage.sql;
  const config = configOf(env);
  const roomId = roomNameOf(ctx);
  // This instance's own copy: the parsed configuration is shared by the isolate, and tests lower one room's.
  const limits = { ...config.room };
  const metrics = new Metrics(roomId, metricsSink(env));
  const saved = ctx.storage.kv.get<MetricsSnapshot>(METRICS_KEY);
  if (saved) metrics.restore(saved);
  const sockets = new LiveSockets(() => directory.getConnections<SocketState>(), { perSecond: limits.framesPerSecond, burst: limits.frameBurst });
  const scheduler = new AlarmScheduler(ctx.storage, roomId);
  const meta = new RoomMetaStore(sql, roomId);
  const feed = new Feed(roomId, meta, limits, sockets, directory, env, metrics);
  const state = new RoomState(sql, roomId, limits, clock, meta, feed, scheduler);
  const presence = new Presence(sql, roomId, state.members, state.log, sockets, limits.presenceGraceMs);
  const receipts = new Receipts(state, sockets);
  const typing = new Typing(state, sockets);
  const sends = new SendPath(state, metrics, (userId) => env.USER_LIMITS.getByName(userId));
  const gate = new SocketGate(state, ctx, directory, sockets, presence, feed, metrics, env);
  const pushQueue = (env as Partial<Env>).PUSH_QUEUE;
  const deliverer = new Deliverer(state, receipts, (userId) => sockets.devicesOf(userId), pushQueue, metrics, (userId) => env.INBOXES.getByName(userId));
  const outboxJob = new OutboxJob(state, env.DB, deliverer, metrics);
  const purgeJob = new PurgeJob(state, env.DB, env.MEDIA, roomMediaPrefix(ctx.id.toString()));
  const jobs = [
    gate,
    receipts,
    presence,
    new RetentionJob(state, metrics),
    purgeJob,
    outboxJob,
    new MediaCleanupJob(state, env.MEDIA, config.media.orphanTtlMs),
    new SaveMetricsJob(metrics, ctx.storage.kv),
  ];
  const frames = { state, sockets, presence, typing, receipts, sends, metrics, queues: new FrameQueues() };
  return { state, sockets, presence, receipts, metrics, media: config.media, scheduler, typing, sends, gate, deliverer, outboxJob, purgeJob, jobs, frames };
}

/**
 * The room's id. `ctx.id.name` is undefined when the object is started by an
 * alarm (e.g. an outbox flush still pending when the process was killed, firing
 * on restart), and RPC entry points never reach partyserver's own name
 * bookkeeping. So the name is kept in the synchronous KV store under
 * partyserver's key (`__ps_name`), written whenever the runtime tells us the
 * name; without it, an alarm-started room would stamp "" on its events and
 * partyserver would refuse its WebSocket upgrades.
 */
const NAME_KEY = "__ps_name";
function roomNameOf(ctx: DurableObjectState): string {
  const known = ctx.id.name;
  if (known !== undefined) {
    if (ctx.storage.kv.get<string>(NAME_KEY) !== known) ctx.storage.kv.put(NAME_KEY, known);
    return known;
  }
  return ctx.storage.kv.get<string>(NAME_KEY) ?? "";
}
