/**
 * The room Durable Object: one instance per room, the source of truth for its
 * members and messages. A thin partyserver Server: it builds the room's state
 * (state.ts) and feature modules once per instance, and each RPC method and
 * socket hook delegates to one of them; none of them calls back into it.
 *
 * Hibernation is on: between messages the instance may be dropped while its
 * sockets stay open, and rebuilt by the constructor on the next frame. So the
 * constructor rebuilds everything it needs from SQLite, and each socket's own
 * facts live in its attachment.
 */
import { Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import {
  CloseCodes,
  HEARTBEAT_REQUEST,
  HEARTBEAT_RESPONSE,
  type Message,
  type PrivacySettings,
  type Result,
  type RoomSummaryForUser,
  type SendMessageBody,
  ok,
} from "../protocol";
import { type Clock, ClockSlot } from "../kernel/clock";
import { type MediaConfig, configOf } from "../kernel/config";
import { deleteMediaForMessage } from "../media/cleanup";
import { roomMediaPrefix } from "../media/keys";
import { Metrics, type MetricsSnapshot, metricsSink } from "../ops/metrics";
import { configureLogs, errorText, log } from "../ops/log";
import { LiveSockets, type SocketState, closeQuietly, closedByServerSide } from "./connections";
import * as erasure from "./erasure";
import { Feed } from "./feed";
import { FrameQueues } from "./frame-queue";
import { type FrameContext, handleFrame } from "./frames";
import { type HistoryRequest, history } from "./history";
import { Deliverer, type InboxOf } from "./inbox-delivery";
import { MEDIA_RETRY_MS, METRICS_KEY, MediaCleanupJob, OutboxJob, SaveMetricsJob } from "./jobs";
import * as lifecycle from "./lifecycle";
import * as membership from "./membership";
import * as messages from "./messages";
import { RoomMetaStore } from "./meta";
import { type ModerationAction, moderate } from "./moderation";
import type { Actor } from "./policy";
import { Presence } from "./presence";
import { PurgeJob } from "./purge";
import { Receipts } from "./receipts";
import * as retention from "./retention";
import { type AlarmJob, AlarmScheduler } from "./scheduler";
import { migrate } from "./schema";
import { type CrossRoomBucket, SendPath } from "./sending";
import { SocketGate } from "./socket-gate";
import { RoomState } from "./state";
import { summarise } from "./summary";
import { Typing } from "./typing";
import * as uploads from "./uploads";

export class Room extends Server<Env> {
  static override options = { hibernate: true };

  readonly #time = new ClockSlot();
  /** The room's state: its limits, clock and table owners (tests reach into it). */
  readonly core: RoomState;
  readonly sockets: LiveSockets;
  readonly presence: Presence;
  readonly receipts: Receipts;
  /** This room's operational figures (src/ops/metrics.ts); saved by the alarm, so eviction keeps most of them. */
  readonly metrics: Metrics;
  readonly #media: MediaConfig;
  readonly #scheduler: AlarmScheduler;
  readonly #typing: Typing;
  readonly #sends: SendPath;
  readonly #gate: SocketGate;
  readonly #deliverer: Deliverer;
  readonly #outboxJob: OutboxJob;
  readonly #purgeJob: PurgeJob;
  /** The alarm's jobs, in the order they run. */
  readonly #jobs: readonly AlarmJob[];
  readonly #frames: FrameContext;
  readonly #frameQueues = new FrameQueues();
  /** Sockets whose frames this instance has already taken through partyserver. */
  readonly #seenSockets = new WeakSet<WebSocket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLogs(env);
    migrate(ctx.storage.sql);
    const config = configOf(env);
    const roomId = roomNameOf(ctx);
    // This instance's own copy: tests lower fields of it on one room, never on others.
    const limits = { ...config.room };
    this.#media = config.media;
    this.metrics = new Metrics(roomId, metricsSink(env));
    const saved = ctx.storage.kv.get<MetricsSnapshot>(METRICS_KEY);
    if (saved) this.metrics.restore(saved);
    this.sockets = new LiveSockets(() => this.getConnections<SocketState>(), { perSecond: limits.framesPerSecond, burst: limits.frameBurst });
    this.#scheduler = new AlarmScheduler(ctx.storage, roomId);
    const meta = new RoomMetaStore(ctx.storage.sql, roomId);
    const feed = new Feed(roomId, meta, limits, this.sockets, this, env, this.metrics);
    const state = (this.core = new RoomState(ctx.storage.sql, roomId, limits, this.#time, meta, feed, this.#scheduler));
    this.presence = new Presence(ctx.storage.sql, roomId, state.members, state.log, this.sockets, limits.presenceGraceMs);
    this.receipts = new Receipts(state, this.sockets);
    this.#typing = new Typing(state, this.sockets);
    this.#sends = new SendPath(state, this.metrics, (userId) => env.USER_LIMITS.getByName(userId));
    this.#gate = new SocketGate(state, ctx, this, this.sockets, this.presence, feed, this.metrics, env);
    const devicesOf = (userId: string) => this.sockets.devicesOf(userId);
    this.#deliverer = new Deliverer(state, this.receipts, devicesOf, (env as Partial<Env>).PUSH_QUEUE, this.metrics, (userId) => env.INBOXES.getByName(userId));
    this.#outboxJob = new OutboxJob(state, env.DB, this.#deliverer, this.metrics);
    this.#purgeJob = new PurgeJob(state, env.DB, env.MEDIA, this.mediaPrefix);
    this.#jobs = [
      this.#gate,
      this.receipts,
      this.presence,
      new retention.RetentionJob(state, this.metrics),
      this.#purgeJob,
      this.#outboxJob,
      new MediaCleanupJob(state, env.MEDIA, this.#media.orphanTtlMs),
      new SaveMetricsJob(this.metrics, ctx.storage.kv),
    ];
    const { sockets, presence, receipts, metrics } = this;
    this.#frames = { state, sockets, presence, typing: this.#typing, receipts, sends: this.#sends, metrics };
    void ctx.blockConcurrencyWhile(() => this.#scheduler.load());
    // Heartbeats are answered by the runtime without waking a hibernated room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE));
  }

  /**
   * Where every rule of this room reads the time (rate windows, the undo
   * window, grace periods, ticket and token expiry, timestamps). A test swaps
   * it inside `runInDurableObject` (`room.clock = new ManualClock()`) and then
   * moves that clock instead of sleeping; every module sees the new one at once.
   * Alarms still fire by the runtime's clock: run them with `runDurableObjectAlarm`.
   */
  get clock(): Clock {
    return this.#time.source;
  }

  set clock(clock: Clock) {
    this.#time.source = clock;
  }

  /** Where the outbox writes and the purge reads holds; tests swap in a failing database. */
  get indexDb(): D1Database {
    return this.#outboxJob.db;
  }

  set indexDb(db: D1Database) {
    this.#outboxJob.db = db;
    this.#purgeJob.db = db;
  }

  /** The user's cross-room limits; tests swap in a slow or failing one. */
  get userLimitsOf(): (userId: string) => CrossRoomBucket {
    return this.#sends.gate.bucketOf;
  }

  set userLimitsOf(bucketOf: (userId: string) => CrossRoomBucket) {
    this.#sends.gate.bucketOf = bucketOf;
  }

  /** A member's inbox; tests swap in a failing one to prove retries. */
  get inboxOf(): InboxOf {
    return this.#deliverer.inboxOf;
  }

  set inboxOf(inboxOf: InboxOf) {
    this.#deliverer.inboxOf = inboxOf;
  }

  // ---- RPC, called by the Worker after it has authenticated the user -------

  /** Health checks (src/ops/health.ts): proves a room object can be reached and answers. */
  ping(): "pong" {
    return "pong";
  }

  /** This room's figures since it was created, for GET /api/admin/stats (admins only, checked by the Worker). */
  stats(): MetricsSnapshot & { roomId: string; liveConnections: number } {
    return { roomId: this.core.roomId, liveConnections: this.ctx.getWebSockets().length, ...this.metrics.snapshot() };
  }

  settings(userId: string) {
    return retention.settings(this.core, userId);
  }

  setRetention(actor: Actor, retentionDays: number | null) {
    return retention.setRetention(this.core, actor, retentionDays);
  }

  create(userId: string, privacy?: PrivacySettings) {
    return membership.create(this.core, userId, privacy);
  }

  openDirect(userId: string, otherId: string, privacy?: Record<string, PrivacySettings>) {
    return membership.openDirect(this.core, userId, otherId, privacy);
  }

  join(userId: string, privacy?: PrivacySettings) {
    return membership.join(this.core, userId, privacy);
  }

  leave(userId: string) {
    return membership.leave(this.core, userId);
  }

  presenceList(userId: string) {
    return this.core.asMember(userId, () => ok({ roomId: this.core.roomId, presence: this.presence.list(userId) }));
  }

  receiptList(userId: string) {
    return this.core.asMember(userId, () => ok({ roomId: this.core.roomId, receipts: this.receipts.list(userId) }));
  }

  markRead(userId: string, seq: number, privacy?: PrivacySettings): Result<{ roomId: string; seq: number }> {
    this.applyPrivacy(userId, privacy);
    const error = this.receipts.mark(userId, seq);
    if (error) return { ok: false, error };
    return ok({ roomId: this.core.roomId, seq: this.receipts.list(userId).find((r) => r.userId === userId)?.seq ?? 0 });
  }

  /**
   * What the user's room list shows about this room (unread count, last
   * message, last activity), or null if they are not a member (the D1 index
   * lags: a room it still lists may have been left). Deleted rooms answer null.
   */
  summaryFor(userId: string): RoomSummaryForUser | null {
    if (!this.core.requireMember(userId).ok) return null;
    return summarise(this.core.roomId, this.core.log, this.core.members, this.receipts, userId);
  }

  typing(userId: string): Result<{ roomId: string }> {
    const error = this.#typing.notice(userId);
    return error ? { ok: false, error } : ok({ roomId: this.core.roomId });
  }

  /** The user changed a privacy setting: applies to this room at once. */
  applyPrivacy(userId: string, privacy?: PrivacySettings): void {
    if (privacy && this.core.members.has(userId)) this.core.members.setPrivacy(userId, privacy);
  }

  async sendMessage(userId: string, body: SendMessageBody): Promise<Result<Message>> {
    const started = this.#time.now();
    const result = await this.#sends.send(userId, body);
    if (!result.ok) this.#sends.answered(result.error.code, started, "http");
    else if (!result.value.duplicate) this.#sends.answered(null, started, "http");
    return result.ok ? ok(result.value.message) : result;
  }

  /** The user's open sockets here, by id: how UserLimits tells a lost lease from a live one. */
  liveConnectionIds(userId: string): string[] {
    return this.#gate.liveConnectionIds(userId);
  }

  history(userId: string, req: HistoryRequest) {
    return history(this.core, userId, req);
  }

  editMessage(actor: Actor, messageId: string, content: string) {
    return messages.editMessage(this.core, actor, messageId, content);
  }

  deleteMessage(actor: Actor, messageId: string): Result<Message> {
    const result = messages.deleteMessage(this.core, actor, messageId);
    if (!result.ok) return result;
    if (result.value.newly) {
      this.metrics.count("deletions", "message");
      log("info", "deletion", { room: this.core.roomId, kind: "message", messageId, by: actor.userId, admin: actor.admin === true });
    }
    return ok(result.value.message);
  }

  deleteRoom(actor: Actor) {
    const result = lifecycle.deleteRoom(this.core, actor);
    if (result.ok) {
      this.metrics.count("deletions", "room");
      log("info", "deletion", { room: this.core.roomId, kind: "room", by: actor.userId, admin: actor.admin === true });
    }
    return result;
  }

  restoreRoom(actor: Actor) {
    return lifecycle.restoreRoom(this.core, actor);
  }

  moderate(actor: Actor, userId: string, action: ModerationAction) {
    return moderate(this.core, actor, userId, action);
  }

  setRole(actor: Actor, userId: string, role: "admin" | "member") {
    return membership.setRole(this.core, actor, userId, role);
  }

  /** A user hold was released: look at held content again now rather than on the hourly recheck. */
  recheckHolds(): void {
    this.#scheduler.at(this.#time.now());
  }

  /** Admin only (checked by the Worker). */
  eraseUser(adminId: string, userId: string) {
    return erasure.eraseUser(this.core, adminId, userId);
  }

  /** Admin only (checked by the Worker). */
  setHold(adminId: string, held: boolean) {
    const result = lifecycle.setHold(this.core, held);
    if (result.ok) log("info", "hold", { room: this.core.roomId, held, by: adminId });
    return result;
  }

  activeUsers(userId: string) {
    return this.core.asMember(userId, () => ok({ roomId: this.core.roomId, users: this.core.members.list().map((m) => m.user_id) }));
  }

  members(userId: string) {
    return this.core.asMember(userId, () => ok({ roomId: this.core.roomId, members: membership.memberList(this.core) }));
  }

  /** `tokenExp`: when the caller's token expires (ms); the socket will not outlive it. */
  connectTicket(userId: string, tokenExp: number | null = null, privacy?: PrivacySettings) {
    return this.#gate.connectTicket(userId, tokenExp, privacy);
  }

  // ---- Media: the Worker streams bytes to R2; the room checks and records ------

  /** This room's objects live under `rooms/<object id>/`: a server-made prefix. */
  get mediaPrefix(): string {
    return roomMediaPrefix(this.ctx.id.toString());
  }

  beginUpload(userId: string, req: uploads.BeginUpload) {
    const now = this.#time.now();
    const result = uploads.beginUpload(this.core, this.ctx.id.toString(), userId, req, now);
    if (result.ok) this.#scheduler.at(now + this.#media.orphanTtlMs);
    return result;
  }

  setMultipartUpload(userId: string, uploadId: string, r2UploadId: string) {
    return uploads.setMultipartUpload(this.core, userId, uploadId, r2UploadId);
  }

  uploadTarget(userId: string, uploadId: string) {
    return uploads.uploadTarget(this.core, userId, uploadId);
  }

  recordPart(userId: string, uploadId: string, part: { partNumber: number; etag: string; size: number }, type: uploads.FileType | null) {
    return uploads.recordPart(this.core, userId, uploadId, part, type);
  }

  uploadStatus(userId: string, uploadId: string) {
    return uploads.uploadStatus(this.core, userId, uploadId, this.#media.orphanTtlMs);
  }

  prepareComplete(userId: string, uploadId: string) {
    return uploads.prepareComplete(this.core, userId, uploadId);
  }

  finishUpload(userId: string, mediaId: string, info: { size: number; etag: string; type: uploads.FileType | null }) {
    return uploads.finishUpload(this.core, userId, mediaId, info);
  }

  /** The upload failed or was refused: whatever reached R2 is deleted by the alarm, now. */
  abandonUpload(userId: string, mediaId: string): boolean {
    const abandoned = uploads.abandonUpload(this.core, userId, mediaId);
    if (abandoned) this.#scheduler.at(this.#time.now());
    return abandoned;
  }

  mediaForDownload(userId: string, mediaId: string) {
    return uploads.mediaForDownload(this.core, userId, mediaId);
  }

  /**
   * Deletes the media of the message at `seq` from R2. Rows are marked first;
   * if R2 fails, the alarm retries. (Only tests call it: a deleted message's
   * media goes through the purge, which obeys legal holds.)
   */
  async deleteMessageMedia(seq: number): Promise<number> {
    try {
      return await deleteMediaForMessage(this.core.media, this.env.MEDIA, seq);
    } catch (error) {
      this.#scheduler.at(this.#time.now() + MEDIA_RETRY_MS);
      throw error;
    }
  }

  /** Deletes every media object of this room (the purge of a deleted room). */
  purgeMedia(): Promise<number> {
    return this.#purgeJob.purgeMedia();
  }

  // ---- WebSockets: decided by the socket gate, frames handled by frames.ts ----

  override async fetch(request: Request): Promise<Response> {
    const admitted = await this.#gate.admit(request);
    if (admitted instanceof Response) return admitted;
    return this.#gate.answered(admitted, await super.fetch(admitted.request));
  }

  override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
    return this.#gate.tagsOf(ctx);
  }

  override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
    this.#gate.connected(connection, ctx);
  }

  override onClose(connection: Connection<SocketState>, code: number): void {
    this.#gate.ended(connection, code);
  }

  override onError(connection: Connection<SocketState>, error: unknown): void {
    this.#gate.ended(connection, 1006, error);
  }

  /**
   * partyserver reads a socket's attachment on every frame to tell its own
   * sockets from others (4 % of a busy room's CPU in the fan-out profile).
   * Every socket a room accepts is partyserver's, so once a socket's first
   * frame has been through that (and the instance is initialised), its later
   * frames go straight to onMessage. This relies on partyserver's connection
   * being the socket itself (test/room/partyserver-internals.test.ts).
   */
  override async webSocketMessage(ws: WebSocket, message: WSMessage): Promise<void> {
    if (this.#seenSockets.has(ws)) return this.onMessage(ws as unknown as Connection<SocketState>, message);
    return super.webSocketMessage(ws, message);
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    this.#seenSockets.add(connection as unknown as WebSocket);
    if (closedByServerSide(connection)) return;
    const onError = (error: unknown) => frameFailed(this.core.roomId, connection, error);
    const inOrder = (step: () => void | Promise<void>) => {
      if (this.#frameQueues.run(connection.id, step, this.core.limits.frameBurst, onError)) return true;
      closeQuietly(connection, CloseCodes.tooManyFrames, "too many frames");
      return false;
    };
    try {
      handleFrame(this.#frames, connection, message, inOrder);
    } catch (error) {
      onError(error);
    }
  }

  /** Runs at least once per schedule, maybe more: every job is idempotent. */
  override async onAlarm(): Promise<void> {
    await this.#scheduler.run(this.#jobs, () => this.#time.now());
  }

  /**
   * Dev and benchmarks only (the Worker exposes it only with dev auth, and it
   * refuses without): writes `count` messages from a member straight into the
   * log, so a benchmark can build a long history in seconds. Nothing is
   * broadcast and the D1 index is not touched.
   */
  seedForBench(userId: string, count: number): Result<{ fromSeq: number; toSeq: number; ts: number }> {
    if (!configOf(this.env).devAuth) return { ok: false, error: { code: "not_found", message: "dev auth is not enabled" } };
    const n = Math.max(0, Math.min(100_000, Math.floor(count)));
    return this.core.asMember(userId, () => ok(this.core.log.seedMessagesForBench(userId, n, "seeded for the benchmark ".padEnd(100, "."))));
  }

  /** Dev and tests only (the Worker exposes it only with dev auth): drop the instance as a crash would. */
  abortForTesting(): void {
    this.ctx.abort("aborted for testing");
  }
}

/** Never let one frame take the room down; the client learns its request failed. */
function frameFailed(roomId: string, connection: Connection<SocketState>, error: unknown): void {
  log("error", "frame_failed", { room: roomId, conn: connection.id, error: errorText(error) });
  try {
    connection.send(JSON.stringify({ type: "error", reqId: null, error: { code: "internal", message: "internal error" } }));
  } catch {
    // Socket already gone.
  }
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
