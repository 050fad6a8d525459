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
import { type RoomConnection, type SocketState, broadcastLive, closeQuietly, userTag } from "./connections";
import { RoomCore } from "./core";
import { handleFrame } from "./frames";
import type { HistoryRequest } from "./history";
import { flushDelay } from "./outbox";
import { migrate } from "./schema";
import { consumeTicket, issueTicket } from "./tickets";

const USER_HEADER = "x-chat-user";

export class Room extends Server<Env> {
  static override options = { hibernate: true };

  readonly core: RoomCore;
  /** Where the outbox writes; tests swap in a failing database to prove retries. */
  indexDb: D1Database;
  #flushScheduled = false;
  #flushAttempt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql);
    this.indexDb = env.DB;
    this.core = new RoomCore(ctx.storage.sql, ctx.id.name ?? "", roomLimits(env as unknown as Record<string, unknown>), {
      publish: (event) => this.#publish(event),
      revoke: (userId) => this.#revoke(userId),
      scheduleFlush: () => this.#scheduleFlush(0),
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
    connection.setState({ userId, live: false });
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    try {
      handleFrame(this.core, connection, message);
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
    broadcastLive(this.getConnections<SocketState>(), { type: "event", roomId: this.core.roomId, epoch: this.core.epoch, event });
  }

  #revoke(userId: string): void {
    for (const connection of this.getConnections<SocketState>(userTag(userId))) {
      closeQuietly(connection as RoomConnection, CloseCodes.notMember, "no longer a member");
    }
  }

  #scheduleFlush(attempt: number): void {
    if (this.#flushScheduled && attempt === 0) return;
    this.#flushScheduled = true;
    void this.ctx.storage.setAlarm(Date.now() + flushDelay(attempt));
  }

  override async onAlarm(): Promise<void> {
    this.#flushScheduled = false;
    const result = await this.core.outbox.flush(this.indexDb, this.#flushAttempt);
    this.#flushAttempt = result.ok ? 0 : this.#flushAttempt + 1;
    if (result.more) this.#scheduleFlush(this.#flushAttempt);
  }
}

function errorResponse(error: ErrorBody): Response {
  return Response.json({ error }, { status: statusOf(error.code) });
}

