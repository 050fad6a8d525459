/**
 * What a room does with each WebSocket frame. A frame is checked for size
 * before it is parsed and validated with zod before it is used; a bad frame
 * gets an error frame naming its request, and never throws into the room.
 */
import { ClientFrame, CloseCodes, type ErrorBody, PROTOCOL_VERSION, type Position } from "../protocol";
import type { Metrics } from "../ops/metrics";
import { errorText, log } from "../ops/log";
import type { FrameQueues } from "./frame-queue";
import { type LiveSockets, type RoomConnection, closeQuietly, send } from "./connections";
import { forwardCursor, latestCursor } from "./history";
import type { Presence } from "./presence";
import type { Receipts } from "./receipts";
import { replay } from "./replay";
import type { SendPath } from "./sending";
import type { RoomState } from "./state";
import type { Typing } from "./typing";

export function maxFrameBytes(state: RoomState): number {
  // Content may need 6 bytes per UTF-8 byte once JSON-escaped (\u00XX), plus the envelope.
  return state.limits.maxMessageBytes * 6 + 4096;
}

/**
 * The modules a frame reaches: the room's state, its sockets, and the
 * features frames drive. A frame is handled synchronously except a send,
 * which waits for the user's cross-room bucket.
 */
export interface FrameContext {
  state: RoomState;
  sockets: LiveSockets;
  presence: Pick<Presence, "connected">;
  typing: Pick<Typing, "notice">;
  receipts: Pick<Receipts, "mark">;
  sends: Pick<SendPath, "send" | "answered">;
  metrics: Metrics;
  /** Each socket's frames in order (frame-queue.ts). */
  queues: FrameQueues;
}

/**
 * A frame from one of the room's sockets, in its socket's order: more frames
 * waiting than the frame burst is a flood, and closes the socket. Never
 * throws: a frame that fails is logged and answered with an `internal` error.
 */
export function receiveFrame(ctx: FrameContext, connection: RoomConnection, raw: string | ArrayBuffer | ArrayBufferView): void {
  const onError = (error: unknown) => frameFailed(ctx.state.roomId, connection, error);
  const inOrder: InOrder = (step) => {
    if (ctx.queues.run(connection.id, step, ctx.state.limits.frameBurst, onError)) return true;
    closeQuietly(connection, CloseCodes.tooManyFrames, "too many frames");
    return false;
  };
  try {
    handleFrame(ctx, connection, raw, inOrder);
  } catch (error) {
    onError(error);
  }
}

/** Never let one frame take the room down; the client learns its request failed. */
function frameFailed(roomId: string, connection: RoomConnection, error: unknown): void {
  log("error", "frame_failed", { room: roomId, conn: connection.id, error: errorText(error) });
  try {
    connection.send(JSON.stringify({ type: "error", reqId: null, error: { code: "internal", message: "internal error" } }));
  } catch {
    // Socket already gone.
  }
}

export type ResumeOutcome = "replayed" | "too_far_behind" | "epoch_changed";

/**
 * A step of a frame's handling that must run in the socket's frame order
 * (`FrameQueues`): it runs now, or once the socket's earlier sends are answered.
 */
export type InOrder = (step: () => void | Promise<void>) => boolean;

/**
 * Handles one frame. Checks (budget, size, parse, schema) run on arrival;
 * what the frame does and every answer run through `inOrder`, so a socket's
 * answers come in the order of its frames. A send also starts on arrival:
 * its room checks and its cross-room RPC run at once, and only storing and
 * acking it wait for the sends before it, so one socket's sends are not
 * held to one RPC round trip each.
 */
export function handleFrame(
  ctx: FrameContext,
  connection: RoomConnection,
  raw: string | ArrayBuffer | ArrayBufferView,
  inOrder: InOrder = (step) => (void step(), true),
): void {
  const { state: core, sockets } = ctx;
  const state = sockets.get(connection);
  if (!state) return closeQuietly(connection, CloseCodes.notMember, "no session");
  // Before any parsing: a client flooding frames costs the room one counter per frame,
  // and is cut off, so it cannot queue work in front of everyone else.
  if (!sockets.frameBudget.take(connection.id, core.clock.now()).allowed) return closeQuietly(connection, CloseCodes.tooManyFrames, "too many frames");
  if (typeof raw !== "string") {
    return void inOrder(() => sendError(core, connection, null, { code: "invalid_request", message: "frames must be JSON text" }));
  }
  if (raw.length > maxFrameBytes(core)) return closeQuietly(connection, CloseCodes.tooLarge, "frame too large");

  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return void inOrder(() => sendError(core, connection, null, { code: "invalid_request", message: "frame is not valid JSON" }));
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const error = { code: "invalid_request", message: `invalid frame: ${parsed.error.issues[0]?.message ?? "unknown shape"}` } as const;
    return void inOrder(() => sendError(core, connection, reqIdOf(json), error));
  }
  const frame = parsed.data;
  // Any frame shows the client is alive; persisting that at most every 10 s keeps it cheap.
  const now = core.clock.now();
  if (state.exp && state.exp <= now) return closeQuietly(connection, CloseCodes.tokenExpired, "token expired");
  if (now - state.since > 10_000) sockets.set(connection, { ...state, since: now });
  if (frame.type === "send") {
    const body = { content: frame.content, clientId: frame.clientId, attachments: frame.attachments };
    let sent: ReturnType<FrameContext["sends"]["send"]> | undefined;
    const start = () => (sent ??= ctx.sends.send(state.userId, body));
    const queued = inOrder(() =>
      start().then((result) => {
        if (!result.ok) {
          sendError(core, connection, frame.reqId, result.error);
          return ctx.sends.answered(result.error.code, now, "ws");
        }
        send(connection, { type: "ack", reqId: frame.reqId, message: result.value.message });
        // A retried clientId stored nothing: it is not a second accepted message.
        return result.value.duplicate ? undefined : ctx.sends.answered(null, now, "ws");
      }),
    );
    // Refused (a flood; the socket is being closed): nothing was started. Otherwise start now if
    // it waits behind earlier sends; its failure is handled by the step when that runs.
    if (queued) start().catch(() => undefined);
    return;
  }
  // Read marks and typing notices beyond their natural rate meet the room's signal budget (budgets.ts).
  const overBudget = frame.type === "typing" || frame.type === "read" ? core.budgets.take(state.userId, "signal") : null;
  if (overBudget) return void inOrder(() => sendError(core, connection, null, overBudget));
  void inOrder(() => {
    // Read again: the socket may have gone live (or been dropped) while earlier sends were answered.
    const current = sockets.get(connection);
    if (!current) return;
    switch (frame.type) {
      case "hello":
        // A second hello would replay again: 10 of them made one socket cost the room 386 MB.
        if (current.live) return sendError(core, connection, null, { code: "invalid_request", message: "this socket is live already; resume on a new socket" });
        hello(ctx, connection, current.userId, frame.protocol, frame.after);
        if (sockets.get(connection)?.live) ctx.presence.connected(current.userId);
        return;
      case "typing": {
        const error = ctx.typing.notice(current.userId);
        return error ? sendError(core, connection, null, error) : undefined;
      }
      case "read": {
        const error = ctx.receipts.mark(current.userId, frame.seq);
        return error ? sendError(core, connection, null, error) : undefined;
      }
      case "progress":
        if (current.live) sockets.progress(connection, Math.min(frame.seq, core.log.head), Math.max(1, Math.floor(core.limits.lagCap / 4)));
        return;
      case "ping":
        return send(connection, frame.reqId === undefined ? { type: "pong" } : { type: "pong", reqId: frame.reqId });
    }
  });
}

/**
 * Brings a socket up to date and makes it live. Replay and the switch to live
 * happen in one synchronous step, so no event can fall between them. Once
 * per socket: a replay is the costliest thing a frame can ask of the room.
 */
function hello(ctx: FrameContext, connection: RoomConnection, userId: string, protocol: number, after: Position | undefined): void {
  const { state: core, sockets } = ctx;
  const resumed = (outcome: ResumeOutcome, replayed: number, bytes = 0) => {
    ctx.metrics.count("resumes", outcome);
    if (outcome === "replayed") ctx.metrics.observe("replay_events", replayed);
    log("info", "resume", { room: core.roomId, conn: connection.id, outcome, replayed, bytes });
  };
  if (protocol !== PROTOCOL_VERSION) {
    sendError(core, connection, null, { code: "invalid_request", message: `protocol ${protocol} is not supported; use ${PROTOCOL_VERSION}` });
    return closeQuietly(connection, CloseCodes.unsupportedProtocol, "unsupported protocol");
  }
  const member = core.requireMember(userId);
  if (!member.ok) {
    sendError(core, connection, null, member.error);
    const code = member.error.code === "room_deleted" ? CloseCodes.roomDeleted : CloseCodes.notMember;
    return closeQuietly(connection, code, member.error.code);
  }
  const head = core.log.head;
  const epoch = core.epoch;
  const tooFarBehind = (from: number) => {
    // The client pages history instead, which shows trimmed messages as tombstones.
    send(connection, { type: "resync", roomId: core.roomId, reason: "too_far_behind", epoch, seq: head, historyCursor: forwardCursor(from, head) });
  };
  if (after) {
    const behind = head - after.seq;
    if (after.epoch !== epoch || behind < 0) {
      send(connection, { type: "resync", roomId: core.roomId, reason: "epoch_changed", epoch, seq: head, historyCursor: latestCursor(head) });
      resumed("epoch_changed", 0);
    } else if (behind > core.limits.replayCap || after.seq < core.trimmedThrough) {
      // Too long a replay, or one reaching into history that retention trimmed (whose events are gone).
      tooFarBehind(after.seq);
      resumed("too_far_behind", 0);
    } else {
      const done = replay(core.log, { roomId: core.roomId, epoch, connection }, after.seq, head, core.limits.replayMaxBytes);
      // Too many bytes: the rest comes from history, from the last event sent.
      if (done.capped) tooFarBehind(done.through);
      resumed(done.capped ? "too_far_behind" : "replayed", done.events, done.bytes);
    }
  }
  // What was replayed counts as received: the lag cap applies from here on.
  sockets.set(connection, { ...sockets.get(connection), userId, live: true, acked: head, since: core.clock.now() });
  send(connection, { type: "live", roomId: core.roomId, epoch, seq: head });
}

/** Every error frame is logged with its code (never its message, which may quote the frame). */
function sendError(core: RoomState, connection: RoomConnection, reqId: string | null, error: ErrorBody): void {
  log("info", "error", { room: core.roomId, conn: connection.id, transport: "ws", code: error.code });
  send(connection, { type: "error", reqId, error });
}

function reqIdOf(json: unknown): string | null {
  if (typeof json !== "object" || json === null) return null;
  const reqId = (json as Record<string, unknown>).reqId;
  return typeof reqId === "string" && reqId.length <= 64 ? reqId : null;
}
