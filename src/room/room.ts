/**
 * The room Durable Object: one instance per room, the source of truth for its
 * members and messages. A thin layer over partyserver's hooks; the rules live
 * in RoomCore, frame handling in frames.ts.
 *
 * Hibernation is on: between messages the instance may be dropped while its
 * sockets stay open, and rebuilt by the constructor on the next frame. So the
 * constructor rebuilds everything it needs from SQLite, and each socket's own
 * facts live in its attachment.
 */
import { Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import {
  CloseCodes,
  type ErrorBody,
  HEARTBEAT_REQUEST,
  HEARTBEAT_RESPONSE,
  type Message,
  type Result,
  type RoomEvent,
  type SendMessageBody,
  fail,
  ok,
  statusOf,
} from "../protocol";
import { type MediaConfig, configOf } from "../kernel/config";
import { deleteAllRoomMedia, deleteMediaForMessage, sweepOrphans } from "../media/cleanup";
import { roomMediaPrefix } from "../media/keys";
import { LiveSockets, type RoomConnection, type SocketState, closeQuietly, closedByServerSide, forgetClosed, userTag } from "./connections";
import { type Actor, RoomCore } from "./core";
import { type FrameActions, handleFrame } from "./frames";
import { Presence } from "./presence";
import { RECEIPT_BATCH_MS, Receipts } from "./receipts";
import type { HistoryRequest } from "./history";
import { flushDelay } from "./outbox";
import { type InboxEntry, type InboxTarget, type PushEntry, deliverNotices, noticesFor, pushJobsFor } from "./inbox-delivery";
import type { PrivacySettings, PushJob, RoomSummaryForUser } from "../protocol";
import { migrate } from "./schema";
import { summarise } from "./summary";
import { consumeTicket, issueTicket } from "../kernel/tickets";
import { type CrossRoomBucket, CrossRoomGate, sendThroughLimits } from "./sending";
import { FrameQueues } from "./frame-queue";
import { acquireLease, releaseLease } from "../user/leases";
import * as uploads from "./uploads";
import { Metrics, type MetricsSnapshot, metricsSink } from "../ops/metrics";
import { configureLogs, errorText, log } from "../ops/log";
import { type Clock, ClockSlot } from "../kernel/clock";

const USER_HEADER = "x-chat-user";
const TOKEN_EXP_HEADER = "x-chat-token-exp";
/** How often a room with sockets looks for dead ones. */
const SWEEP_MS = 30_000;
/** Typing notices expire on clients after this long without a refresh. */
const TYPING_TTL_MS = 10_000;
/** At most one typing notice per user per this interval is passed on. */
const TYPING_MIN_INTERVAL_MS = 2_000;
/** Sockets this many events behind their acknowledged position get no ephemeral frames. */
const EPHEMERAL_DROP_LAG = 50;
/** How soon a failed R2 delete is tried again. */
const MEDIA_RETRY_MS = 60_000;
/** Events trimmed by retention per alarm run: small enough not to hold the room up. */
const RETENTION_BATCH = 500;
/** Where the room keeps its figures between instances (sync KV, written by the alarm). */
const METRICS_KEY = "__metrics";

export class Room extends Server<Env> {
  static override options = { hibernate: true };

  readonly core: RoomCore;
  readonly sockets: LiveSockets;
  readonly presence: Presence;
  readonly receipts: Receipts;
  /** Last typing notice per user: in memory only, as typing itself is. */
  #typingAt = new Map<string, number>();
  readonly #frameActions: FrameActions;
  /** Where the outbox writes; tests swap in a failing database to prove retries. */
  indexDb: D1Database;
  readonly media: MediaConfig;
  #flushAttempt = 0;
  /** When the alarm is set for (a cache of storage's; null: none or unknown). */
  #alarmAt: number | null = null;
  /** This room's operational figures (src/ops/metrics.ts); saved by the alarm, so eviction keeps most of them. */
  readonly metrics: Metrics;
  readonly #time = new ClockSlot();

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLogs(env);
    migrate(ctx.storage.sql);
    this.indexDb = env.DB;
    this.media = configOf(env).media;
    this.core = new RoomCore(ctx.storage.sql, roomNameOf(ctx), configOf(env).room, this.#time, {
      publish: (event) => this.#publish(event),
      revoke: (userId) => this.#revoke(userId),
      scheduleFlush: () => this.#scheduleAlarm(this.#time.now() + flushDelay(0)),
      scheduleAt: (at) => this.#scheduleAlarm(at),
      closeAll: () => {
        for (const connection of this.getConnections<SocketState>()) {
          this.sockets.delete(connection);
          this.#releaseLease(connection as RoomConnection);
          closeQuietly(connection as RoomConnection, CloseCodes.roomDeleted, "room deleted");
        }
      },
    });
    this.#crossRoom = new CrossRoomGate(this.core.roomId, (userId) => this.userLimitsOf(userId));
    this.metrics = new Metrics(this.core.roomId, metricsSink(env));
    const saved = ctx.storage.kv.get<MetricsSnapshot>(METRICS_KEY);
    if (saved) this.metrics.restore(saved);
    this.sockets = new LiveSockets(() => this.getConnections<SocketState>(), {
      perSecond: this.core.limits.framesPerSecond,
      burst: this.core.limits.frameBurst,
    });
    const limits = this.core.limits;
    this.presence = new Presence(ctx.storage.sql, this.core.roomId, this.core.members, this.sockets, limits.presenceGraceMs, (frame) =>
      this.sockets.broadcastEphemeral(frame, this.core.log.head, { dropLag: EPHEMERAL_DROP_LAG }),
    );
    this.receipts = new Receipts(ctx.storage.sql, this.core.roomId, this.core.members, limits.largeRoomMembers);
    this.#frameActions = {
      live: (userId) => this.presence.connected(userId),
      typing: (userId) => this.#typing(userId),
      markRead: (userId, seq) => this.#markRead(userId, seq),
      send: (userId, body) => sendThroughLimits(this.core, userId, body, this.#crossRoom),
      sendAnswered: (code, startedAt) => this.#sendAnswered(code, this.#time.now() - startedAt, "ws"),
      resumed: (outcome, replayed, conn) => {
        this.metrics.count("resumes", outcome);
        if (outcome === "replayed") this.metrics.observe("replay_events", replayed);
        log("info", "resume", { room: this.core.roomId, conn, outcome, replayed });
      },
    };
    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAt = await ctx.storage.getAlarm();
    });
    // Heartbeats are answered by the runtime without waking a hibernated room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE));
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
    return this.core.settings(userId);
  }

  setRetention(actor: Actor, retentionDays: number | null) {
    return this.core.setRetention(actor, retentionDays);
  }

  create(userId: string, privacy?: PrivacySettings) {
    return this.core.create(userId, privacy);
  }

  openDirect(userId: string, otherId: string, privacy?: Record<string, PrivacySettings>) {
    return this.core.openDirect(userId, otherId, privacy);
  }

  join(userId: string, privacy?: PrivacySettings) {
    return this.core.join(userId, privacy);
  }

  presenceList(userId: string): Result<{ roomId: string; presence: ReturnType<Presence["list"]> }> {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    return ok({ roomId: this.core.roomId, presence: this.presence.list(userId) });
  }

  receiptList(userId: string): Result<{ roomId: string; receipts: ReturnType<Receipts["list"]> }> {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    return ok({ roomId: this.core.roomId, receipts: this.receipts.list(userId) });
  }

  markRead(userId: string, seq: number, privacy?: PrivacySettings): Result<{ roomId: string; seq: number }> {
    if (privacy && this.core.members.has(userId)) this.core.members.setPrivacy(userId, privacy);
    const error = this.#markRead(userId, seq);
    if (error) return { ok: false, error };
    return ok({ roomId: this.core.roomId, seq: this.receipts.list(userId).find((r) => r.userId === userId)?.seq ?? 0 });
  }

  /**
   * What the user's room list shows about this room (unread count, last
   * message, last activity), or null if they are not a member (the D1 index
   * lags: a room it still lists may have been left). Deleted rooms answer null.
   */
  summaryFor(userId: string, evenIfDeleted = false): RoomSummaryForUser | null {
    if (!(evenIfDeleted ? this.core.members.has(userId) : this.core.requireMember(userId).ok)) return null;
    return summarise(this.ctx.storage.sql, this.core.roomId, this.core.members, (u) => this.receipts.pendingFor(u), userId);
  }

  typing(userId: string): Result<{ roomId: string }> {
    const error = this.#typing(userId);
    return error ? { ok: false, error } : ok({ roomId: this.core.roomId });
  }

  /** The user changed a privacy setting: applies to this room at once. */
  applyPrivacy(userId: string, privacy: PrivacySettings): void {
    if (this.core.members.has(userId)) this.core.members.setPrivacy(userId, privacy);
  }

  leave(userId: string) {
    return this.core.leave(userId);
  }

  async sendMessage(userId: string, body: SendMessageBody): Promise<Result<Message>> {
    const started = this.#time.now();
    const result = await sendThroughLimits(this.core, userId, body, this.#crossRoom);
    if (!result.ok) this.#sendAnswered(result.error.code, this.#time.now() - started, "http");
    else if (!result.value.duplicate) this.#sendAnswered(null, this.#time.now() - started, "http");
    return result.ok ? ok(result.value.message) : result;
  }

  /** The user's cross-room limits; tests swap in a failing one. */
  userLimitsOf: (userId: string) => CrossRoomBucket = (userId) => this.env.USER_LIMITS.getByName(userId);
  readonly #crossRoom: CrossRoomGate;

  /** The user's open sockets here, by id: how UserLimits tells a lost lease from a live one. */
  liveConnectionIds(userId: string): string[] {
    return [...this.getConnections<SocketState>(userTag(userId))].filter((c) => c.readyState === WebSocket.OPEN).map((c) => c.id);
  }

  /**
   * Metrics for an answered send. `ms` is the room's own time from receipt to
   * answer; a Worker's clock moves only on I/O, so it reads near 0 unless the
   * room waited (the Worker's http_ms and clients see the whole round trip).
   */
  #sendAnswered(code: string | null, ms: number, transport: "ws" | "http"): void {
    if (code === null) {
      this.metrics.count("messages_accepted");
      this.metrics.observe("send_ack_ms", ms, transport);
      return;
    }
    // The refusal itself is logged where it is answered: frames.ts for sockets, the Worker for HTTP.
    this.metrics.count("messages_refused", code);
  }

  history(userId: string, req: HistoryRequest) {
    return this.core.history(userId, req);
  }

  editMessage(actor: Actor, messageId: string, content: string) {
    return this.core.edit(actor, messageId, content);
  }

  deleteMessage(actor: Actor, messageId: string) {
    const before = this.core.log.findMessage(messageId)?.deleted_ts ?? null;
    const result = this.core.deleteMessage(actor, messageId);
    if (result.ok && before === null) {
      this.metrics.count("deletions", "message");
      log("info", "deletion", { room: this.core.roomId, kind: "message", messageId, by: actor.userId, admin: actor.admin === true });
    }
    return result;
  }

  deleteRoom(actor: Actor) {
    const result = this.core.deleteRoom(actor);
    if (result.ok) {
      this.metrics.count("deletions", "room");
      log("info", "deletion", { room: this.core.roomId, kind: "room", by: actor.userId, admin: actor.admin === true });
    }
    return result;
  }

  restoreRoom(actor: Actor) {
    return this.core.restoreRoom(actor);
  }

  moderate(actor: Actor, userId: string, action: "kick" | "ban" | "unban") {
    return this.core.moderate(actor, userId, action);
  }

  setRole(actor: Actor, userId: string, role: "admin" | "member") {
    return this.core.setRole(actor, userId, role);
  }

  /** A user hold was released: look at held content again now rather than on the hourly recheck. */
  recheckHolds(): void {
    this.#scheduleAlarm(this.#time.now());
  }

  /** Admin only (checked by the Worker). */
  eraseUser(adminId: string, userId: string) {
    return this.core.eraseUser(adminId, userId);
  }

  /** Admin only (checked by the Worker). */
  setHold(adminId: string, held: boolean): Result<{ roomId: string; held: boolean }> {
    if (!this.core.meta) return fail("room_not_found", `room ${this.core.roomId} does not exist`);
    this.core.setHold(adminId, held);
    log("info", "hold", { room: this.core.roomId, held, by: adminId });
    return ok({ roomId: this.core.roomId, held });
  }

  activeUsers(userId: string): Result<{ roomId: string; users: string[] }> {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    return ok({ roomId: this.core.roomId, users: this.core.members.list().map((m) => m.user_id) });
  }

  members(userId: string) {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    return ok({
      roomId: this.core.roomId,
      members: this.core.members.list().map((m) => ({
        userId: m.user_id,
        role: m.role as "owner" | "admin" | "member",
        joinedTs: new Date(m.joined_ts).toISOString(),
      })),
    });
  }

  /** `tokenExp`: when the caller's token expires (ms); the socket will not outlive it. */
  connectTicket(userId: string, tokenExp: number | null = null, privacy?: PrivacySettings): Result<{ ticket: string; expiresTs: string }> {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    if (privacy) this.core.members.setPrivacy(userId, privacy);
    const { ticket, expiresTs } = issueTicket(this.ctx.storage.sql, userId, this.#time.now(), tokenExp);
    return ok({ ticket, expiresTs: new Date(expiresTs).toISOString() });
  }

  // ---- Media: the Worker streams bytes to R2; the room checks and records ------

  /** This room's objects live under `rooms/<object id>/`: a server-made prefix. */
  get mediaPrefix(): string {
    return roomMediaPrefix(this.ctx.id.toString());
  }

  beginUpload(userId: string, req: uploads.BeginUpload) {
    const now = this.#time.now();
    const result = uploads.beginUpload(this.core, this.ctx.id.toString(), userId, req, now);
    if (result.ok) this.#scheduleAlarm(now + this.media.orphanTtlMs);
    return result;
  }

  setMultipartUpload(userId: string, uploadId: string, r2UploadId: string): Result<{ ok: true }> {
    const row = this.core.media.byUpload(uploadId);
    if (!row || row.uploader !== userId || row.state !== "uploading") return { ok: false, error: { code: "not_found", message: "no such upload" } };
    this.core.media.setR2Upload(row.media_id, r2UploadId);
    return ok({ ok: true });
  }

  uploadTarget(userId: string, uploadId: string) {
    return uploads.uploadTarget(this.core, userId, uploadId);
  }

  recordPart(userId: string, uploadId: string, part: { partNumber: number; etag: string; size: number }, type: uploads.FileType | null) {
    return uploads.recordPart(this.core, userId, uploadId, part, type);
  }

  uploadStatus(userId: string, uploadId: string) {
    return uploads.uploadStatus(this.core, userId, uploadId, this.media.orphanTtlMs);
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
    if (abandoned) this.#scheduleAlarm(this.#time.now());
    return abandoned;
  }

  mediaForDownload(userId: string, mediaId: string) {
    return uploads.mediaForDownload(this.core, userId, mediaId);
  }

  /**
   * Deletes the media of the message at `seq` from R2 (for message deletion).
   * Rows are marked first, in the same turn as the caller's change; if R2
   * fails, the alarm retries.
   */
  async deleteMessageMedia(seq: number): Promise<number> {
    try {
      return await deleteMediaForMessage(this.core.media, this.env.MEDIA, seq);
    } catch (error) {
      this.#scheduleAlarm(this.#time.now() + MEDIA_RETRY_MS);
      throw error;
    }
  }

  /** Deletes every media object of this room (for room purge). */
  async purgeMedia(): Promise<number> {
    return deleteAllRoomMedia(this.env.MEDIA, this.mediaPrefix, this.core.media);
  }

  // ---- WebSockets -----------------------------------------------------------

  /**
   * Upgrades are decided here, before the 101: the ticket is spent and the
   * user must be a member. The user id is passed on to partyserver in a
   * header that only this method sets.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse({ code: "invalid_request", message: "expected a WebSocket upgrade" });
    }
    const url = new URL(request.url);
    const ticket = url.searchParams.get("ticket") ?? "";
    const spent = ticket ? consumeTicket(this.ctx.storage.sql, ticket, this.#time.now()) : null;
    if (!spent) return errorResponse({ code: "unauthorized", message: "connect ticket is missing, expired or already used" });
    const { userId, tokenExp } = spent;
    const member = this.core.requireMember(userId);
    if (!member.ok) return errorResponse(member.error);
    // The connection id is ours, not the client's: it names the socket's lease in UserLimits.
    const connectionId = crypto.randomUUID();
    const refused = await acquireLease(this.env, { id: connectionId, userId, kind: "room", target: this.core.roomId });
    if (refused) return errorResponse(refused);

    // Replace the query (the spent ticket, and any client-chosen `_pk` connection id) with our id.
    url.search = `_pk=${connectionId}`;
    const headers = new Headers(request.headers);
    headers.set(USER_HEADER, userId);
    headers.set(TOKEN_EXP_HEADER, tokenExp === null ? "" : String(tokenExp));
    const response = await super.fetch(new Request(url.toString(), { headers, method: "GET" }));
    if (response.status !== 101) releaseLease(this.env, userId, connectionId);
    return response;
  }

  override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
    return [userTag(ctx.request.headers.get(USER_HEADER) ?? "")];
  }

  override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
    const userId = ctx.request.headers.get(USER_HEADER) ?? "";
    const exp = Number(ctx.request.headers.get(TOKEN_EXP_HEADER)) || null;
    this.sockets.set(connection, { userId, live: false, acked: 0, since: this.#time.now(), exp });
    this.#scheduleAlarm(Math.min(this.#time.now() + SWEEP_MS, exp ?? Number.MAX_SAFE_INTEGER));
    const live = this.ctx.getWebSockets().length;
    this.metrics.count("connections_opened");
    this.metrics.observe("live_connections", live);
    log("info", "connect", { room: this.core.roomId, conn: connection.id, user: userId, live });
  }

  override onClose(connection: Connection<SocketState>, code: number): void {
    this.#gone(connection);
    this.#closed(connection, code);
  }

  override onError(connection: Connection<SocketState>, error: unknown): void {
    this.#gone(connection);
    log("warn", "error", { room: this.core.roomId, conn: connection.id, code: "socket_error", error: errorText(error) });
    this.#closed(connection, 1006);
  }

  #closed(connection: RoomConnection, code: number): void {
    forgetClosed(connection);
    // The closing socket may still be listed while its close handler runs.
    const live = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
    this.metrics.count("connections_closed", String(code));
    this.metrics.observe("live_connections", live);
    log("info", "close", { room: this.core.roomId, conn: connection.id, code, live });
  }

  /** A socket is gone (closed, errored or swept): presence learns of it once. */
  #gone(connection: RoomConnection): void {
    const state = this.sockets.get(connection);
    const wasLive = state?.live === true;
    this.sockets.delete(connection);
    this.#releaseLease(connection);
    if (!wasLive || !state) return;
    const due = this.presence.disconnected(state.userId, this.#time.now());
    if (due !== null) this.#scheduleAlarm(due);
  }

  /** The socket's lease in its user's UserLimits goes back (idempotent; a lost one heals there). */
  #releaseLease(connection: RoomConnection): void {
    const userId = connection.state?.userId;
    if (userId) releaseLease(this.env, userId, connection.id);
  }

  #typing(userId: string): ErrorBody | null {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member.error;
    const now = this.#time.now();
    // Rate limited per user: extra notices inside the interval change nothing for others.
    if (now - (this.#typingAt.get(userId) ?? 0) < TYPING_MIN_INTERVAL_MS) return null;
    this.#typingAt.set(userId, now);
    const frame = { type: "typing", roomId: this.core.roomId, userId, expiresTs: new Date(now + TYPING_TTL_MS).toISOString() } as const;
    this.sockets.broadcastEphemeral(frame, this.core.log.head, { exceptUser: userId, dropLag: EPHEMERAL_DROP_LAG });
    return null;
  }

  #markRead(userId: string, seq: number): ErrorBody | null {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member.error;
    const { scheduled } = this.receipts.mark(userId, seq, this.core.log.head);
    if (scheduled) this.#scheduleAlarm(this.#time.now() + RECEIPT_BATCH_MS);
    return null;
  }

  readonly #frameQueues = new FrameQueues();
  /** Sockets whose frames this instance has already taken through partyserver. */
  readonly #seenSockets = new WeakSet<WebSocket>();

  /**
   * partyserver reads a socket's attachment on every frame to tell its own
   * sockets from others (4 % of a busy room's CPU in the fan-out profile).
   * Every socket a room accepts is partyserver's, so once a socket's first
   * frame has been through that (and the instance is initialised), its later
   * frames go straight to onMessage.
   */
  override async webSocketMessage(ws: WebSocket, message: WSMessage): Promise<void> {
    if (this.#seenSockets.has(ws)) return this.onMessage(ws as unknown as Connection<SocketState>, message);
    return super.webSocketMessage(ws, message);
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    // partyserver's connection is the socket itself, given its fields.
    this.#seenSockets.add(connection as unknown as WebSocket);
    if (closedByServerSide(connection)) return;
    const onError = (error: unknown) => this.#frameFailed(connection, error);
    const inOrder = (step: () => void | Promise<void>) => {
      if (this.#frameQueues.run(connection.id, step, this.core.limits.frameBurst, onError)) return true;
      closeQuietly(connection, CloseCodes.tooManyFrames, "too many frames");
      return false;
    };
    try {
      handleFrame(this.core, this.sockets, this.#frameActions, connection, message, inOrder);
    } catch (error) {
      onError(error);
    }
  }

  /** Never let one frame take the room down; the client learns its request failed. */
  #frameFailed(connection: Connection<SocketState>, error: unknown): void {
    log("error", "frame_failed", { room: this.core.roomId, conn: connection.id, error: errorText(error) });
    try {
      connection.send(JSON.stringify({ type: "error", reqId: null, error: { code: "internal", message: "internal error" } }));
    } catch {
      // Socket already gone.
    }
  }

  // ---- Effects of changes -----------------------------------------------------

  #publish(event: RoomEvent): void {
    const frame = { type: "event", roomId: this.core.roomId, epoch: this.core.epoch, seq: event.seq, event } as const;
    const delivered = this.sockets.broadcast(frame, event.seq, this.core.limits.lagCap);
    if (event.type === "message") this.metrics.observe("fanout", delivered);
  }

  #revoke(userId: string): void {
    for (const connection of this.getConnections<SocketState>(userTag(userId))) {
      this.sockets.delete(connection);
      this.#releaseLease(connection as RoomConnection);
      closeQuietly(connection as RoomConnection, CloseCodes.notMember, "no longer a member");
    }
  }

  /** One alarm serves every timed job (outbox flush, dead-socket sweep, media cleanup): it is set to the earliest. */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Runs at least once per schedule, maybe more: every step here is idempotent. */
  override async onAlarm(): Promise<void> {
    this.#alarmAt = null;
    const now = this.#time.now();
    this.#sweepDeadSockets();
    this.receipts.flush((frame, onlyUser) => {
      this.sockets.broadcastEphemeral(frame, this.core.log.head, onlyUser === null ? {} : { onlyUser });
      // The reader's inbox (their other devices) learns the new unread count, whatever the room's size.
      if (frame.type === "receipt") {
        this.core.outbox.put(`inbox:read:${frame.userId}`, { op: "inbox", roomId: this.core.roomId, kind: "read", seq: frame.seq, userId: frame.userId });
      }
    });
    const presenceDue = this.presence.flushDue(now);
    if (presenceDue !== null) this.#scheduleAlarm(presenceDue);
    this.#trimExpired(now);
    await this.#purge();
    if (this.core.outbox.pending > 0) {
      const result = await this.core.outbox.flush(this.indexDb, this.#flushAttempt, (entries) => this.#deliverInbox(entries), (entry) => this.core.latestOutboxEntry(entry));
      this.#flushAttempt = result.ok ? 0 : this.#flushAttempt + 1;
      if (result.d1LagMs !== null) this.metrics.observe("outbox_lag_ms", result.d1LagMs);
      if (!result.ok) this.metrics.count("outbox_failures");
      if (result.more) this.#scheduleAlarm(this.#time.now() + flushDelay(this.#flushAttempt));
    }
    if (this.ctx.getWebSockets().length > 0) this.#scheduleAlarm(this.#time.now() + SWEEP_MS);
    await this.#cleanMedia();
    if (this.metrics.takeChanged()) this.ctx.storage.kv.put(METRICS_KEY, this.metrics.snapshot());
  }

  /** Message retention: one batch per run, so a long backlog never holds the room up. */
  #trimExpired(now: number): void {
    const { trimmed, next } = this.core.trimExpired(now, RETENTION_BATCH);
    if (trimmed > 0) {
      this.metrics.count("retention_trimmed", "", trimmed);
      log("info", "retention_trimmed", { room: this.core.roomId, trimmed, through: this.core.trimmedThrough });
    }
    if (next !== null) this.#scheduleAlarm(next);
  }

  /** Orphan uploads past their time, stale multipart uploads, and deletions R2 refused before. */
  async #cleanMedia(): Promise<void> {
    const now = this.#time.now();
    try {
      await sweepOrphans(this.core.media, this.env.MEDIA, now, this.media.orphanTtlMs);
    } catch (error) {
      log("error", "media_cleanup_failed", { room: this.core.roomId, error: errorText(error) });
    }
    const oldest = this.core.media.oldestUnattached();
    if (oldest !== null) this.#scheduleAlarm(Math.max(now + 1000, oldest + this.media.orphanTtlMs));
    if (this.core.media.countDeleting() > 0) this.#scheduleAlarm(now + MEDIA_RETRY_MS);
  }

  /** Inbox notices and push jobs for the outbox's delivery rows; says per row whether it went out. */
  async #deliverInbox(entries: Array<InboxEntry | PushEntry>): Promise<boolean[]> {
    const inboxEntries = entries.filter((e): e is InboxEntry => e.op === "inbox");
    const jobs = entries.flatMap((e) => (e.op === "push" ? pushJobsFor(this.core, (u) => this.sockets.devicesOf(u), e) : []));
    const notices = noticesFor(this.core, (userId) => this.summaryFor(userId, true), inboxEntries);
    const [delivered, queued] = await Promise.all([deliverNotices(notices, (userId) => this.inboxOf(userId)), this.#enqueuePush(jobs)]);
    return entries.map((e) => (e.op === "inbox" ? delivered : queued));
  }

  async #enqueuePush(jobs: PushJob[]): Promise<boolean> {
    const queue = (this.env as Partial<Env>).PUSH_QUEUE;
    if (!queue || jobs.length === 0) return true;
    try {
      for (let i = 0; i < jobs.length; i += 100) await queue.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
      this.metrics.count("push_enqueued", "", jobs.length);
      return true;
    } catch (error) {
      this.metrics.count("push_enqueue_failures");
      log("warn", "push_enqueue_failed", { room: this.core.roomId, jobs: jobs.length, error: errorText(error) });
      return false;
    }
  }

  /** A member's inbox; tests swap in a failing one to prove retries. */
  inboxOf: (userId: string) => InboxTarget = (userId) => this.env.INBOXES.getByName(userId);

  /** Destroys deleted content that no legal hold protects (holds on users live in D1). */
  async #purge(): Promise<void> {
    const meta = this.core.meta;
    if (!meta || meta.purged) return;
    const sql = this.ctx.storage.sql;
    const queued = sql.exec<{ n: number }>("SELECT count(*) AS n FROM purge_queue").one().n;
    const removedMedia = sql.exec<{ n: number }>("SELECT count(*) AS n FROM media WHERE state = 'removed'").one().n;
    if (queued === 0 && removedMedia === 0 && meta.deletedTs === null) return;
    let heldUsers: Set<string>;
    try {
      const { results } = await this.indexDb
        .prepare("SELECT DISTINCT target FROM legal_holds WHERE kind = 'user' AND released_ts IS NULL")
        .all<{ target: string }>();
      heldUsers = new Set(results.map((r) => r.target));
    } catch {
      // Unknown holds: destroy nothing now, look again soon.
      this.#scheduleAlarm(this.#time.now() + 60_000);
      return;
    }
    const result = this.core.purge(this.#time.now(), heldUsers);
    if (result.destroyed > 0 || result.roomPurged) {
      log("info", "purge", { room: this.core.roomId, destroyed: result.destroyed, roomPurged: result.roomPurged, heldUsers: heldUsers.size });
    }
    if (result.roomPurged) {
      try {
        await this.purgeMedia();
      } catch (error) {
        // Rows stay marked `deleting`; the media cleanup retries them.
        log("error", "media_purge_failed", { room: this.core.roomId, error: errorText(error) });
      }
    }
    if (result.next !== null) this.#scheduleAlarm(result.next);
  }

  /**
   * `webSocketClose` may never come for a vanished client, so sockets that
   * have not sent a heartbeat (answered by the runtime, which records when) or
   * a frame for too long are closed here.
   */
  #sweepDeadSockets(): void {
    const now = this.#time.now();
    for (const connection of this.getConnections<SocketState>()) {
      const state = this.sockets.get(connection);
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(connection)?.getTime() ?? 0;
      const lastHeard = Math.max(pinged, state?.since ?? 0);
      if (state?.exp && state.exp <= now) {
        // Revocation by time: a long-lived socket does not outlive its token.
        this.#gone(connection as RoomConnection);
        closeQuietly(connection as RoomConnection, CloseCodes.tokenExpired, "token expired");
      } else if (now - lastHeard > this.core.limits.heartbeatTimeoutMs) {
        this.#gone(connection as RoomConnection);
        closeQuietly(connection as RoomConnection, CloseCodes.heartbeatTimeout, "heartbeat timeout");
      }
    }
  }

  /**
   * Dev and benchmarks only (the Worker exposes it only with dev auth, and it
   * refuses without): writes `count` messages from a member straight into the
   * log, so a benchmark can build a long history in seconds. Nothing is
   * broadcast and the D1 index is not touched.
   */
  seedForBench(userId: string, count: number): Result<{ fromSeq: number; toSeq: number; ts: number }> {
    if (!configOf(this.env).devAuth) return { ok: false, error: { code: "not_found", message: "dev auth is not enabled" } };
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    const n = Math.max(0, Math.min(100_000, Math.floor(count)));
    return ok(this.core.log.seedMessagesForBench(userId, n, "seeded for the benchmark ".padEnd(100, ".")));
  }

  /** Dev and tests only (the Worker exposes it only with dev auth): drop the instance as a crash would. */
  abortForTesting(): void {
    this.ctx.abort("aborted for testing");
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

function errorResponse(error: ErrorBody): Response {
  return Response.json({ error }, { status: statusOf(error.code) });
}

