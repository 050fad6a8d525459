import { z } from "zod";
import { errorCodeList } from "./errors";
import { ClientMessageId, RoomId, Timestamp, UserId } from "./ids";
import { MAX_ATTACHMENTS, MediaId } from "./media";
import { Message, Role, RoomKind } from "./messages";

/** Bodies and answers of the HTTP API. Field names match the SDK's. */

export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(errorCodeList),
    message: z.string(),
    retryAfter: z.number().optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

export const CreateRoomBody = z.object({ roomId: RoomId });

export const RoomCreated = z.object({ roomId: RoomId, kind: RoomKind, role: Role });

export const JoinResult = z.object({ roomId: RoomId, joined: z.boolean() });
export const LeaveResult = z.object({ roomId: RoomId, left: z.boolean() });

/**
 * `content` is only checked to be a string here: its byte limit is a
 * deployment setting, enforced by the room with its own error code.
 */
export const SendMessageBody = z.object({
  content: z.string(),
  clientId: ClientMessageId.optional(),
  /** Finished uploads of the sender in this room; `content` may be empty when there is one. */
  attachments: z.array(MediaId).max(MAX_ATTACHMENTS).optional(),
});
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const MAX_HISTORY_LIMIT = 200;
export const DEFAULT_HISTORY_LIMIT = 50;

/** Query of a history read. Times are ISO 8601; `cursor` is opaque. */
export const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_LIMIT).optional(),
  beforeTs: z.iso.datetime({ offset: true }).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(512).optional(),
  /** Newer-than read: messages with seq > afterSeq, oldest first. */
  afterSeq: z.coerce.number().int().min(0).optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const HistoryPage = z.object({
  messages: z.array(Message),
  /** Fetches the next older page; null when the oldest message is in this page. */
  nextCursor: z.string().nullable(),
  /** The room's latest seq when the page was read: live events continue after it. */
  headSeq: z.number().int(),
  epoch: z.string(),
});
export type HistoryPage = z.infer<typeof HistoryPage>;

export const ActiveUsers = z.object({ roomId: RoomId, users: z.array(UserId) });

export const Member = z.object({ userId: UserId, role: Role, joinedTs: Timestamp });
export const MemberList = z.object({ roomId: RoomId, members: z.array(Member) });

export const RoomSummary = z.object({
  roomId: RoomId,
  kind: RoomKind,
  role: Role,
  joinedTs: Timestamp,
  lastActivityTs: Timestamp,
  lastSeq: z.number().int(),
});
export type RoomSummary = z.infer<typeof RoomSummary>;
export const RoomList = z.object({ rooms: z.array(RoomSummary) });

export const DirectRoom = z.object({ roomId: RoomId, kind: z.literal("direct"), members: z.array(UserId) });

export const ConnectTicket = z.object({
  ticket: z.string(),
  /** Path (with query) to open as a WebSocket on the same origin. */
  url: z.string(),
  expiresTs: Timestamp,
});
export type ConnectTicket = z.infer<typeof ConnectTicket>;

export const DevTokenBody = z.object({ userId: UserId, admin: z.boolean().optional() });
export const DevToken = z.object({ token: z.string() });

export type CreateRoomBody = z.infer<typeof CreateRoomBody>;
export type RoomCreated = z.infer<typeof RoomCreated>;
export type JoinResult = z.infer<typeof JoinResult>;
export type LeaveResult = z.infer<typeof LeaveResult>;
export type ActiveUsers = z.infer<typeof ActiveUsers>;
export type Member = z.infer<typeof Member>;
export type MemberList = z.infer<typeof MemberList>;
export type RoomList = z.infer<typeof RoomList>;
export type DirectRoom = z.infer<typeof DirectRoom>;
export type DevTokenBody = z.infer<typeof DevTokenBody>;
export type DevToken = z.infer<typeof DevToken>;
