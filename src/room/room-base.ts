/**
 * The room Durable Object's base: a partyserver Server that builds the
 * room's modules once per instance (assembly.ts) and hands each socket hook
 * and the alarm to them. The RPC methods live in the subclasses, by area:
 * media (room-media.ts) and chat (room.ts); none of the modules calls back
 * into the object.
 *
 * Hibernation is on: between messages the instance may be dropped while its
 * sockets stay open, and rebuilt by the constructor on the next frame. So the
 * constructor rebuilds everything it needs from SQLite, and each socket's own
 * facts live in its attachment.
 */
import { Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import { HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE, type Result, ok, statusOf } from "../protocol";
import { type Clock, ClockSlot } from "../kernel/clock";
import { configOf } from "../kernel/config";
import type { Metrics } from "../ops/metrics";
import { configureLogs } from "../ops/log";
import { type RoomParts, assembleRoom } from "./assembly";
import { type LiveSockets, type SocketState, closeQuietly, closedByServerSide } from "./connections";
import { receiveFrame } from "./frames";
import type { InboxOf } from "./inbox-delivery";
import type { Presence } from "./presence";
import type { Receipts } from "./receipts";
import { migrate } from "./schema";
import type { CrossRoomBucket } from "./sending";
import type { RoomState } from "./state";

export class RoomBase extends Server<Env> {
  static override options = { hibernate: true };

  protected readonly time = new ClockSlot();
  protected readonly parts: RoomParts;
  /** The room's state: its limits, clock and table owners (tests reach into it). */
  readonly core: RoomState;
  readonly sockets: LiveSockets;
  readonly presence: Presence;
  readonly receipts: Receipts;
  /** This room's operational figures (src/ops/metrics.ts); saved by the alarm, so eviction keeps most of them. */
  readonly metrics: Metrics;
  /** Sockets whose frames this instance has already taken through partyserver. */
  /** Sockets partyserver has already handed over, keyed by the socket itself (its connection is the socket). */
  readonly #seenSockets = new WeakMap<WebSocket, Connection<SocketState>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLogs(env);
    migrate(ctx.storage.sql);
    const parts = (this.parts = assembleRoom(ctx, env, this.time, this));
    ({ state: this.core, sockets: this.sockets, presence: this.presence, receipts: this.receipts, metrics: this.metrics } = parts);
    void ctx.blockConcurrencyWhile(() => parts.scheduler.load());
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
    return this.time.source;
  }

  set clock(clock: Clock) {
    this.time.source = clock;
  }

  /** Where the outbox writes and the purge reads holds; tests swap in a failing database. */
  get indexDb(): D1Database {
    return this.parts.outboxJob.db;
  }

  set indexDb(db: D1Database) {
    this.parts.outboxJob.db = db;
    this.parts.purgeJob.db = db;
  }

  /** The user's cross-room limits; tests swap in a slow or failing one. */
  get userLimitsOf(): (userId: string) => CrossRoomBucket {
    return this.parts.sends.gate.bucketOf;
  }

  set userLimitsOf(bucketOf: (userId: string) => CrossRoomBucket) {
    this.parts.sends.gate.bucketOf = bucketOf;
  }

  /** A member's inbox; tests swap in a failing one to prove retries. */
  get inboxOf(): InboxOf {
    return this.parts.deliverer.inboxOf;
  }

  set inboxOf(inboxOf: InboxOf) {
    this.parts.deliverer.inboxOf = inboxOf;
  }

  // ---- WebSockets: decided by the socket gate, frames handled by frames.ts ----

  /** Upgrades whose socket reached onConnect and was set up there. */
  readonly #opened = new WeakSet<Request>();

  /**
   * partyserver answers an upgrade that threw on its way to onConnect with a
   * socket whose first frame is the error's stack: that socket never reaches
   * the client, which gets a code and a message instead (and the lease goes back).
   */
  override async fetch(request: Request): Promise<Response> {
    const admitted = await this.parts.gate.admit(request);
    if (admitted instanceof Response) return admitted;
    const response = await super.fetch(admitted.request);
    const failed = response.status === 101 && !this.#opened.has(admitted.request);
    return this.parts.gate.answered(admitted, failed ? upgradeFailed() : response);
  }

  override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
    return this.parts.gate.tagsOf(ctx);
  }

  override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
    try {
      this.parts.gate.connected(connection, ctx);
    } catch (error) {
      // Accepted already: close it here, as nobody will hold its other end.
      closeQuietly(connection, 1011, "internal error");
      throw error;
    }
    this.#opened.add(ctx.request);
  }

  override onClose(connection: Connection<SocketState>, code: number): void {
    this.parts.gate.ended(connection, code);
  }

  override onError(connection: Connection<SocketState>, error: unknown): void {
    this.parts.gate.ended(connection, 1006, error);
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
    const known = this.#seenSockets.get(ws);
    if (known) return this.onMessage(known, message);
    return super.webSocketMessage(ws, message);
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    this.#seenSockets.set(connection, connection);
    if (closedByServerSide(connection)) return;
    receiveFrame(this.parts.frames, connection, message);
  }

  /** Runs at least once per schedule, maybe more: every job is idempotent. */
  override async onAlarm(): Promise<void> {
    await this.parts.scheduler.run(this.parts.jobs, () => this.time.now());
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

function upgradeFailed(): Response {
  return Response.json({ error: { code: "internal", message: "the socket could not be opened; try again" } }, { status: statusOf("internal") });
}
