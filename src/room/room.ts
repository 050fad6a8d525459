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

  ok,
  statusOf,
} from "../protocol";
import { roomLimits } from "./config";
import { LiveSockets, type RoomConnection, type SocketState, closeQuietly, userTag } from "./connections";
import { RoomCore } from "./core";
import { handleFrame } from "./frames";
import type { HistoryRequest } from "./history";
import { flushDelay } from "./outbox";
import { migrate } from "./schema";
import { consumeTicket, issueTicket } from "./tickets";

const USER_HEADER = "x-chat-user";
/** How often a room with sockets looks for dead ones. */
const SWEEP_MS = 30_000;

export class Room extends Server<Env> {
  static override options = { hibernate: true };

  readonly core: RoomCore;
  readonly sockets: LiveSockets;
  /** Where the outbox writes; tests swap in a failing database to prove retries. */
  indexDb: D1Database;
  #flushAttempt = 0;
  /** When the alarm is set for (a cache of storage's; null: none or unknown). */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql);
    this.indexDb = env.DB;
    this.core = new RoomCore(ctx.storage.sql, ctx.id.name ?? "", roomLimits(env as unknown as Record<string, unknown>), {
      publish: (event) => this.#publish(event),
      revoke: (userId) => this.#revoke(userId),
      scheduleFlush: () => this.#scheduleAlarm(Date.now() + flushDelay(0)),
    });
    this.sockets = new LiveSockets(() => this.getConnections<SocketState>());
    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAt = await ctx.storage.getAlarm();
    });
    // Heartbeats are answered by the runtime without waking a hibernated room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE));
  }

  // ---- RPC, called by the Worker after it has authenticated the user -------

  create(userId: string) {
    return this.core.create(userId);
  }

  openDirect(userId: string, otherId: string) {
    return this.core.openDirect(userId, otherId);
  }

  join(userId: string) {
    return this.core.join(userId);
  }

  leave(userId: string) {
    return this.core.leave(userId);
  }

  sendMessage(userId: string, body: SendMessageBody): Result<Message> {
    const result = this.core.send(userId, body);
    return result.ok ? ok(result.value.message) : result;
  }

  history(userId: string, req: HistoryRequest) {
    return this.core.history(userId, req);
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

  connectTicket(userId: string): Result<{ ticket: string; expiresTs: string }> {
    const member = this.core.requireMember(userId);
    if (!member.ok) return member;
    const { ticket, expiresTs } = issueTicket(this.ctx.storage.sql, userId, Date.now());
    return ok({ ticket, expiresTs: new Date(expiresTs).toISOString() });
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
    const userId = ticket ? consumeTicket(this.ctx.storage.sql, ticket, Date.now()) : null;
    if (!userId) return errorResponse({ code: "unauthorized", message: "connect ticket is missing, expired or already used" });
    const member = this.core.requireMember(userId);
    if (!member.ok) return errorResponse(member.error);

    // Drop the query (the spent ticket, and partyserver's client-chosen `_pk` connection id).
    url.search = "";
    const headers = new Headers(request.headers);
    headers.set(USER_HEADER, userId);
    return super.fetch(new Request(url.toString(), { headers, method: "GET" }));
  }

  override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
    return [userTag(ctx.request.headers.get(USER_HEADER) ?? "")];
  }

  override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
    const userId = ctx.request.headers.get(USER_HEADER) ?? "";
    this.sockets.set(connection, { userId, live: false, acked: 0, since: Date.now() });
    this.#scheduleAlarm(Date.now() + SWEEP_MS);
  }

  override onClose(connection: Connection<SocketState>): void {
    this.sockets.delete(connection);
  }

  override onError(connection: Connection<SocketState>): void {
    this.sockets.delete(connection);
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    try {
      handleFrame(this.core, this.sockets, connection, message);
    } catch (error) {
      // Never let one frame take the room down; the client learns its request failed.
      console.error(JSON.stringify({ event: "frame_failed", room: this.core.roomId, error: String(error) }));
      try {
        connection.send(JSON.stringify({ type: "error", reqId: null, error: { code: "internal", message: "internal error" } }));
      } catch {
        // Socket already gone.
      }
    }
  }

  // ---- Effects of changes -----------------------------------------------------

  #publish(event: RoomEvent): void {
    const frame = { type: "event", roomId: this.core.roomId, epoch: this.core.epoch, seq: event.seq, event } as const;
    this.sockets.broadcast(frame, event.seq, this.core.limits.lagCap);
  }

  #revoke(userId: string): void {
    for (const connection of this.getConnections<SocketState>(userTag(userId))) {
      closeQuietly(connection as RoomConnection, CloseCodes.notMember, "no longer a member");
    }
  }

  /** One alarm serves every timed job (outbox flush, dead-socket sweep): it is set to the earliest. */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Runs at least once per schedule, maybe more: every step here is idempotent. */
  override async onAlarm(): Promise<void> {
    this.#alarmAt = null;
    this.#sweepDeadSockets();
    if (this.core.outbox.pending > 0) {
      const result = await this.core.outbox.flush(this.indexDb, this.#flushAttempt);
      this.#flushAttempt = result.ok ? 0 : this.#flushAttempt + 1;
      if (result.more) this.#scheduleAlarm(Date.now() + flushDelay(this.#flushAttempt));
    }
    if (this.ctx.getWebSockets().length > 0) this.#scheduleAlarm(Date.now() + SWEEP_MS);
  }

  /**
   * `webSocketClose` may never come for a vanished client, so sockets that
   * have not sent a heartbeat (answered by the runtime, which records when) or
   * a frame for too long are closed here.
   */
  #sweepDeadSockets(): void {
    const now = Date.now();
    for (const connection of this.getConnections<SocketState>()) {
      const state = this.sockets.get(connection);
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(connection)?.getTime() ?? 0;
      const lastHeard = Math.max(pinged, state?.since ?? 0);
      if (now - lastHeard > this.core.limits.heartbeatTimeoutMs) {
        this.sockets.delete(connection);
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
    if ((this.env as { DEV_AUTH?: string }).DEV_AUTH !== "true") return { ok: false, error: { code: "not_found", message: "dev auth is not enabled" } };
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

function errorResponse(error: ErrorBody): Response {
  return Response.json({ error }, { status: statusOf(error.code) });
}

