/** WebSocket frames of a room socket: what clients send (hello, send, typing, read, progress) and what the room sends back (events, acks, errors, presence). */
import { z } from "zod";
import { ClientMessageId, UserId } from "./ids";
import { MAX_ATTACHMENTS, MediaId } from "./media";
import { Message, RoomEvent } from "./messages";
import { ErrorResponse } from "./http";

/**
 * WebSocket frames. One socket is one device in one room. Every frame is a
 * JSON text frame with a `type`; frames that answer a request carry its `reqId`.
 */
export const PROTOCOL_VERSION = 1;

/** Where a client stands in a room's log: it has applied every event up to `seq`. */
export const Position = z.object({ epoch: z.string().min(1).max(64), seq: z.number().int().min(0) });
export type Position = z.infer<typeof Position>;

const ReqId = z.string().min(1).max(64);

// ---- client to server -------------------------------------------------------

export const ClientFrame = z.discriminatedUnion("type", [
  /** First frame: protocol version and, when resuming, the last applied position. */
  z.object({ type: z.literal("hello"), protocol: z.number().int(), after: Position.optional() }),
  z.object({
    type: z.literal("send"),
    reqId: ReqId,
    content: z.string(),
    clientId: ClientMessageId.optional(),
    attachments: z.array(MediaId).max(MAX_ATTACHMENTS).optional(),
  }),
  z.object({ type: z.literal("ping"), reqId: ReqId.optional() }),
  /**
   * Cumulative receipt: the client has received every event up to `seq`.
   * Clients send it at least every 100 events or every second while events
   * arrive; a socket whose acknowledged position falls more than the room's
   * lag cap behind is closed with 4008 (it resumes from its position).
   */
  z.object({ type: z.literal("progress"), seq: z.number().int().min(0) }),
  /** The user is typing. Repeat at most every few seconds while they type; expires after 10 s. */
  z.object({ type: z.literal("typing") }),
  /** Read up to and including `seq`. Only moves forward; batched by the room. */
  z.object({ type: z.literal("read"), seq: z.number().int().min(0) }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

// ---- server to client -------------------------------------------------------

export const ServerFrame = z.discriminatedUnion("type", [
  /**
   * Audience: the connecting socket. Sent after `hello` and any replay: from
   * here on the socket receives every new event live, in `seq` order.
   */
  z.object({ type: z.literal("live"), roomId: z.string(), epoch: z.string(), seq: z.number().int() }),
  /**
   * Audience: the connecting socket. The requested position cannot be replayed
   * (other epoch, or too far behind): page history from `historyCursor`, then
   * continue live after `seq`.
   */
  z.object({
    type: z.literal("resync"),
    roomId: z.string(),
    reason: z.enum(["epoch_changed", "too_far_behind"]),
    epoch: z.string(),
    seq: z.number().int(),
    /**
     * too_far_behind: a history cursor that pages forward (oldest first) from
     * the client's position up to `seq`. epoch_changed: the newest page.
     */
    historyCursor: z.string(),
  }),
  /** Audience: every live socket of the room, the sender's devices included. */
  z.object({ type: z.literal("event"), roomId: z.string(), epoch: z.string(), seq: z.number().int(), event: RoomEvent }),
  /** Audience: the sending socket only. The message is stored. */
  z.object({ type: z.literal("ack"), reqId: ReqId, message: Message }),
  /** Audience: one socket. Answers the request named by `reqId`, if any. */
  z.object({
    type: z.literal("error"),
    reqId: z.string().nullable(),
    error: ErrorResponse.shape.error,
  }),
  z.object({ type: z.literal("pong"), reqId: z.string().optional() }),
  /**
   * Audience: every live socket. Ephemeral (no seq, never stored): a member came
   * online, or went offline after the grace period. Hidden users never appear.
   */
  z.object({
    type: z.literal("presence"),
    roomId: z.string(),
    userId: UserId,
    online: z.boolean(),
    devices: z.number().int(),
    lastSeen: z.string().nullable(),
  }),
  /** Audience: live sockets of other users. Ephemeral, dropped first for backed-up sockets. */
  z.object({ type: z.literal("typing"), roomId: z.string(), userId: UserId, expiresTs: z.string() }),
  /**
   * Audience: every live socket (the reader's own devices only, for private
   * readers and in large rooms). The user has read up to and including `seq`.
   */
  z.object({ type: z.literal("receipt"), roomId: z.string(), userId: UserId, seq: z.number().int() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** Close codes we send. 4000-4999 is the application range; 1005/1006/1015 are never sent. */
export const CloseCodes = {
  /** The user left the room (or was removed) on another device or by an owner. */
  notMember: 4003,
  /** The protocol version in `hello` is not supported. */
  unsupportedProtocol: 4400,
  /** The socket fell too far behind; resume from your last position. */
  tooSlow: 4008,
  /** The room was deleted; do not reconnect (it may be restored: watch `sync`). */
  roomDeleted: 4004,
  /** The token the socket was opened with has expired: reconnect with a fresh one. */
  tokenExpired: 4401,
  /** The client sent frames faster than any client should (a flood): reconnect slower. */
  tooManyFrames: 4029,
  /** No heartbeat for too long: the connection is presumed dead. */
  heartbeatTimeout: 4001,
  /** A frame was larger than the configured limit. */
  tooLarge: 1009,
} as const;

/** Text the server replies to a heartbeat without waking the room. */
export const HEARTBEAT_REQUEST = "ping";
export const HEARTBEAT_RESPONSE = "pong";
