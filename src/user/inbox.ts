/**
 * The inbox: one Durable Object per user (addressed by user id), the one
 * place a device connects to learn about all of its rooms at once. Rooms send
 * it notices from their outbox (after the change is stored, batched by their
 * alarm, retried until delivered); it keeps the latest state of each room in
 * its SQLite and passes every change on to the user's inbox sockets.
 *
 * Sockets use the hibernation API: the object can be evicted between notices
 * while the sockets stay open, and `ping` is answered by the runtime without
 * waking it. Each socket's user id is in its attachment; nothing it needs
 * lives only in memory.
 */
import { DurableObject } from "cloudflare:workers";
import { CloseCodes, HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE, type InboxFrame, type InboxNotice, type InboxRoom, statusOf } from "../protocol";
import { consumeTicket, issueTicket } from "../kernel/tickets";
import { acquireLease, releaseLease } from "./leases";
import { configureLogs, log } from "../ops/log";
import { configOf } from "../kernel/config";
import { type Clock, ClockSlot } from "../kernel/clock";
import { clearTickets } from "../kernel/tickets";
import { Erasure, type ErasureProgress } from "./erasure";
import { MembershipRecord } from "./memberships";

/** How often an inbox with sockets looks for dead ones. */
const SWEEP_MS = 30_000;

interface Attachment {
  userId: string;
  /** Names the socket: its lease in the user's UserLimits (the connection cap), and in logs. */
  id?: string;
  since: number;
  /** When the token the socket was opened with expires (ms): it is closed then (4401). */
  exp?: number | null;
}

interface RoomRow extends Record<string, SqlStorageValue> {
  room_id: string;
  seq: number;
  state: string;
  body: string;
}

const schema = `
  CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_ts INTEGER NOT NULL, token_exp INTEGER);
  -- Minting a ticket deletes the expired ones (src/kernel/tickets.ts): by this index, not a scan.
  CREATE INDEX IF NOT EXISTS tickets_expiry ON tickets (expires_ts);
  -- The latest state of each room of the user; body is the InboxRoom as JSON.
  CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL);
`;

export class Inbox extends DurableObject<Env> {
  readonly sql: SqlStorage;
  /** A socket silent (no frame, no heartbeat) this long is presumed dead: HEARTBEAT_TIMEOUT_MS, as in rooms. */
  readonly #heartbeatTimeoutMs: number;

  /**
   * Where this object reads the time. A test swaps it inside
   * `runInDurableObject` (`obj.clock = new ManualClock()`) and moves that
   * clock instead of sleeping; alarms still fire by the runtime's clock.
   */
  get clock(): Clock {
    return this.#time.source;
  }

  set clock(clock: Clock) {
    this.#time.source = clock;
  }

  readonly #time = new ClockSlot();
  /** Every room the user ever joined, written by the rooms before they answer (memberships.ts). */
  readonly memberships: MembershipRecord;
  /** The user's erasure, if one was asked for (erasure.ts); tests lower its limits. */
  readonly erasure: Erasure;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureLogs(env);
    this.sql = ctx.storage.sql;
    this.#heartbeatTimeoutMs = configOf(env).room.heartbeatTimeoutMs;
    this.sql.exec(schema);
    this.memberships = new MembershipRecord(this.sql, () => this.#time.now());
    this.erasure = new Erasure(this.sql, {
      env,
      now: () => this.#time.now(),
      record: this.memberships,
      clearInbox: () => this.#clear(),
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE));
  }

  // ---- RPC --------------------------------------------------------------------

  /** Called by the Worker after authenticating `userId` (whose inbox this is). */
  connectTicket(userId: string, tokenExp: number | null = null): { ticket: string; expiresTs: string } {
    const { ticket, expiresTs } = issueTicket(this.sql, userId, this.#time.now(), tokenExp);
    return { ticket, expiresTs: new Date(expiresTs).toISOString() };
  }

  /**
   * Notices from a room's outbox. Idempotent: a notice older than what is
   * stored for its room (lower seq) is ignored, and one equal to it changes
   * nothing and is not passed on, so a retried delivery is harmless.
   */
  notify(notices: InboxNotice[]): { applied: number } {
    let applied = 0;
    for (const notice of notices) {
      const current = this.sql.exec<RoomRow>("SELECT * FROM rooms WHERE room_id = ?", notice.room.roomId).toArray()[0];
      const body = JSON.stringify(notice.room);
      if (current && (notice.room.seq < current.seq || (notice.room.seq === current.seq && current.body === body))) continue;
      this.sql.exec(
        "INSERT INTO rooms (room_id, seq, state, body) VALUES (?, ?, ?, ?) ON CONFLICT (room_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, body = excluded.body",
        notice.room.roomId,
        notice.room.seq,
        notice.room.state,
        body,
      );
      applied++;
      this.#broadcast({ type: "inbox", kind: notice.kind, room: notice.room });
    }
    return { applied };
  }

  /** Every room the inbox knows, latest state (tests, and the first frame of a socket). */
  rooms(): InboxRoom[] {
    return this.sql
      .exec<RoomRow>("SELECT * FROM rooms ORDER BY room_id")
      .toArray()
      .map((r) => JSON.parse(r.body) as InboxRoom);
  }

  /** The ids of the open inbox sockets: how UserLimits tells a lost lease from a live one. */
  liveConnectionIds(): string[] {
    return this.ctx.getWebSockets().flatMap((ws) => {
      const id = (ws.deserializeAttachment() as Attachment | null)?.id;
      return ws.readyState === WebSocket.OPEN && id ? [id] : [];
    });
  }

  /** Whether the user has a live inbox socket now (one that sent a heartbeat or frame recently). */
  hasLiveSocket(): boolean {
    return this.#liveSockets().length > 0;
  }

  /** A room the user joined (called by the room before it answers the join). */
  recordRoom(roomId: string): void {
    this.memberships.record(roomId);
  }

  /** Admin only (checked by the Worker): erases this inbox's user, or continues their erasure. */
  async startErasure(adminId: string, userId: string): Promise<ErasureProgress> {
    const progress = await this.erasure.start(adminId, userId);
    await this.#scheduleAlarm(this.erasure.nextStepAt());
    return progress;
  }

  erasureProgress(): ErasureProgress | null {
    return this.erasure.progress();
  }

  /** The erasure's last step: what this object holds of the user goes, and their sockets close. */
  #clear(): void {
    this.sql.exec("DELETE FROM rooms");
    clearTickets(this.sql);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(CloseCodes.notMember, "user erased");
      } catch {
        // already closed
      }
      this.#release(ws);
    }
  }

  // ---- WebSockets ---------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "invalid_request", message: "expected a WebSocket upgrade" } }, { status: 400 });
    }
    const ticket = new URL(request.url).searchParams.get("ticket") ?? "";
    const spent = ticket ? consumeTicket(this.sql, ticket, this.#time.now()) : null;
    const userId = spent?.userId ?? null;
    if (!userId) {
      return Response.json({ error: { code: "unauthorized", message: "connect ticket is missing, expired or already used" } }, { status: 401 });
    }
    const id = crypto.randomUUID();
    const refused = await acquireLease(this.env, { id, userId, kind: "inbox", target: userId });
    if (refused) return Response.json({ error: refused }, { status: statusOf(refused.code) });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ userId, id, since: this.#time.now(), exp: spent?.tokenExp ?? null } satisfies Attachment);
    log("info", "connect", { inbox: userId, conn: id, live: this.ctx.getWebSockets().length });
    send(server, { type: "inbox_state", rooms: this.rooms() });
    await this.#scheduleAlarm(Math.min(this.#time.now() + SWEEP_MS, spent?.tokenExp ?? Number.MAX_SAFE_INTEGER));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const attachment = ws.deserializeAttachment() as Attachment | null;
    if (attachment?.exp && attachment.exp <= this.#time.now()) {
      try {
        ws.close(4401, "token expired");
      } catch {
        // already closed
      }
      return;
    }
    if (attachment) ws.serializeAttachment({ ...attachment, since: this.#time.now() });
    if (typeof message !== "string") return;
    try {
      const frame = JSON.parse(message) as { type?: unknown; reqId?: unknown };
      if (frame.type === "ping") send(ws, { type: "pong", ...(typeof frame.reqId === "string" ? { reqId: frame.reqId.slice(0, 64) } : {}) });
    } catch {
      // Nothing else is expected from clients; ignore what we do not understand.
    }
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    const attachment = ws.deserializeAttachment() as Attachment | null;
    log("info", "close", { inbox: attachment?.userId, conn: attachment?.id, code });
    this.#release(ws);
    // Never echo 1005/1006/1015: workerd throws on them.
    try {
      ws.close(code >= 4000 && code < 5000 ? code : 1000, "closed");
    } catch {
      // already closed
    }
  }

  override webSocketError(ws: WebSocket): void {
    this.#release(ws);
  }

  #release(ws: WebSocket): void {
    const attachment = ws.deserializeAttachment() as Attachment | null;
    if (attachment?.id) releaseLease(this.env, attachment.userId, attachment.id);
  }

  override async alarm(): Promise<void> {
    const now = this.#time.now();
    const live = new Set(this.#liveSockets());
    let next = now + SWEEP_MS;
    for (const ws of this.ctx.getWebSockets()) {
      const exp = (ws.deserializeAttachment() as Attachment | null)?.exp ?? null;
      const expired = exp !== null && exp <= now;
      if (live.has(ws) && !expired) {
        if (exp !== null) next = Math.min(next, exp);
        continue;
      }
      try {
        // Revocation by time: a long-lived socket does not outlive its token.
        ws.close(expired ? 4401 : 4001, expired ? "token expired" : "heartbeat timeout");
        this.#release(ws);
      } catch {
        // already closed
      }
      live.delete(ws);
    }
    const erasureAt = await this.erasure.onAlarm();
    const at = Math.min(live.size > 0 ? next : Infinity, erasureAt ?? Infinity);
    if (at !== Infinity) await this.ctx.storage.setAlarm(at);
  }

  /** Sockets heard from (a heartbeat, answered by the runtime, or a frame) recently. */
  #liveSockets(): WebSocket[] {
    const now = this.#time.now();
    return this.ctx.getWebSockets().filter((ws) => {
      if (ws.readyState !== WebSocket.OPEN) return false;
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      const since = (ws.deserializeAttachment() as Attachment | null)?.since ?? 0;
      return now - Math.max(pinged, since) <= this.#heartbeatTimeoutMs;
    });
  }

  #broadcast(frame: InboxFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) sendRaw(ws, text);
  }

  /** The one alarm serves the socket sweep and the erasure: it is kept at the earliest time either asks for. */
  async #scheduleAlarm(at: number | null): Promise<void> {
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

function send(ws: WebSocket, frame: InboxFrame): void {
  sendRaw(ws, JSON.stringify(frame));
}

function sendRaw(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // A closing socket: its close handler cleans up.
  }
}
