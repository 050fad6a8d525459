/**
 * A room's sockets from the door to the end: connect tickets, the upgrade
 * decision (a spent ticket, membership, a lease under the user's connection
 * cap, all before the 101), the socket's first state, its end (closed,
 * errored or swept as dead), and the sweep that closes sockets whose
 * heartbeats stopped or whose token expired.
 */
import type { ConnectionContext } from "partyserver";
import { CloseCodes, type ErrorBody, type PrivacySettings, type Result, ok, statusOf } from "../protocol";
import type { Metrics } from "../ops/metrics";
import { errorText, log } from "../ops/log";
import { acquireLease, releaseLease } from "../user/leases";
import { type LiveSockets, type RoomConnection, type SocketState, closeQuietly, forgetClosed, userTag } from "./connections";
import type { Feed, SocketDirectory } from "./feed";
import type { Presence } from "./presence";
import type { AlarmJob } from "./scheduler";
import type { RoomState } from "./state";

/** Set on the upgrade request by `admit` only: who the socket belongs to, and when their token expires. */
const USER_HEADER = "x-chat-user";
const TOKEN_EXP_HEADER = "x-chat-token-exp";
/** How often a room with sockets looks for dead ones. */
const SWEEP_MS = 30_000;

/** An upgrade let through: the request to hand partyserver, and whose lease to give back if it fails. */
export interface Admitted {
  request: Request;
  userId: string;
  connectionId: string;
}

export class SocketGate implements AlarmJob {
  readonly name = "socket_sweep";

  constructor(
    private readonly state: RoomState,
    private readonly ctx: DurableObjectState,
    private readonly directory: SocketDirectory,
    private readonly sockets: LiveSockets,
    private readonly presence: Presence,
    private readonly feed: Feed,
    private readonly metrics: Metrics,
    private readonly env: Env,
  ) {}

  /** `tokenExp`: when the caller's token expires (ms); the socket will not outlive it. */
  connectTicket(userId: string, tokenExp: number | null, privacy?: PrivacySettings): Result<{ ticket: string; expiresTs: string }> {
    const { state } = this;
    return state.asMember(userId, () => {
      if (privacy) state.members.setPrivacy(userId, privacy);
      const { ticket, expiresTs } = state.tickets.issue(userId, state.clock.now(), tokenExp);
      return ok({ ticket, expiresTs: new Date(expiresTs).toISOString() });
    });
  }

  /**
   * Decides an upgrade before the 101: the ticket is spent and the user must
   * be a member. The user id goes on to partyserver in a header only this
   * sets; the query (the spent ticket, any client-chosen `_pk`) is replaced
   * by a connection id of ours, which names the socket's lease in UserLimits.
   */
  async admit(request: Request): Promise<Response | Admitted> {
    const { state } = this;
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse({ code: "invalid_request", message: "expected a WebSocket upgrade" });
    }
    const url = new URL(request.url);
    const ticket = url.searchParams.get("ticket") ?? "";
    const spent = ticket ? state.tickets.consume(ticket, state.clock.now()) : null;
    if (!spent) return errorResponse({ code: "unauthorized", message: "connect ticket is missing, expired or already used" });
    const { userId, tokenExp } = spent;
    const member = state.requireMember(userId);
    if (!member.ok) return errorResponse(member.error);
    const connectionId = crypto.randomUUID();
    const refused = await acquireLease(this.env, { id: connectionId, userId, kind: "room", target: state.roomId });
    if (refused) return errorResponse(refused);
    url.search = `_pk=${connectionId}`;
    const headers = new Headers(request.headers);
    headers.set(USER_HEADER, userId);
    headers.set(TOKEN_EXP_HEADER, tokenExp === null ? "" : String(tokenExp));
    return { request: new Request(url.toString(), { headers, method: "GET" }), userId, connectionId };
  }

  /** partyserver answered the admitted upgrade: anything but a 101 gives the lease back. */
  answered(admitted: Admitted, response: Response): Response {
    if (response.status !== 101) releaseLease(this.env, admitted.userId, admitted.connectionId);
    return response;
  }

  tagsOf(ctx: ConnectionContext): string[] {
    return [userTag(ctx.request.headers.get(USER_HEADER) ?? "")];
  }

  connected(connection: RoomConnection, ctx: ConnectionContext): void {
    const { state } = this;
    const userId = ctx.request.headers.get(USER_HEADER) ?? "";
    const exp = Number(ctx.request.headers.get(TOKEN_EXP_HEADER)) || null;
    const now = state.clock.now();
    this.sockets.set(connection, { userId, live: false, acked: 0, since: now, exp });
    state.wake.at(Math.min(now + SWEEP_MS, exp ?? Number.MAX_SAFE_INTEGER));
    const live = this.ctx.getWebSockets().length;
    this.metrics.count("connections_opened");
    this.metrics.observe("live_connections", live);
    log("info", "connect", { room: state.roomId, conn: connection.id, user: userId, live });
  }

  /** The runtime reported the socket closed (`code`) or errored (1006). */
  ended(connection: RoomConnection, code: number, error?: unknown): void {
    this.#gone(connection);
    if (error !== undefined) log("warn", "error", { room: this.state.roomId, conn: connection.id, code: "socket_error", error: errorText(error) });
    forgetClosed(connection);
    // The closing socket may still be listed while its close handler runs.
    const live = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
    this.metrics.count("connections_closed", String(code));
    this.metrics.observe("live_connections", live);
    log("info", "close", { room: this.state.roomId, conn: connection.id, code, live });
  }

  /** The user's open sockets here, by id: how UserLimits tells a lost lease from a live one. */
  liveConnectionIds(userId: string): string[] {
    return [...this.directory.getConnections<SocketState>(userTag(userId))].filter((c) => c.readyState === WebSocket.OPEN).map((c) => c.id);
  }

  /**
   * The alarm job. `webSocketClose` may never come for a vanished client, so
   * sockets that have not sent a heartbeat (answered by the runtime, which
   * records when) or a frame for too long are closed here, and so are sockets
   * whose token expired: a long-lived socket does not outlive its token.
   */
  run(now: number): number | null {
    for (const connection of this.directory.getConnections<SocketState>()) {
      const socket = this.sockets.get(connection);
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(connection)?.getTime() ?? 0;
      const lastHeard = Math.max(pinged, socket?.since ?? 0);
      if (socket?.exp && socket.exp <= now) {
        this.#gone(connection);
        closeQuietly(connection, CloseCodes.tokenExpired, "token expired");
      } else if (now - lastHeard > this.state.limits.heartbeatTimeoutMs) {
        this.#gone(connection);
        closeQuietly(connection, CloseCodes.heartbeatTimeout, "heartbeat timeout");
      }
    }
    return this.ctx.getWebSockets().length > 0 ? this.state.clock.now() + SWEEP_MS : null;
  }

  /** A socket is gone (closed, errored or swept): presence learns of it once. */
  #gone(connection: RoomConnection): void {
    const socket = this.sockets.get(connection);
    this.sockets.delete(connection);
    this.feed.release(connection);
    if (socket?.live !== true) return;
    const due = this.presence.disconnected(socket.userId, this.state.clock.now());
    if (due !== null) this.state.wake.at(due);
  }
}

function errorResponse(error: ErrorBody): Response {
  return Response.json({ error }, { status: statusOf(error.code) });
}
