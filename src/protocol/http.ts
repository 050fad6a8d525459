/** Bodies and answers of the HTTP API, shared by the routes (and their OpenAPI document) and the SDK. */
import { z } from "zod";
import { errorCodeList } from "./errors";
import { ClientMessageId, RoomId, Timestamp, UserId } from "./ids";
import { MAX_ATTACHMENTS, MediaId } from "./media";
import { Message, Role, RoomEvent, RoomKind } from "./messages";

/** Bodies and answers of the HTTP API. Field names match the SDK's. */

export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(errorCodeList),
    message: z.string(),
    retryAfter: z.number().optional(),
    limit: z.number().optional(),
    remaining: z.number().optional(),
    reset: z.number().optional(),
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
  /**
   * Forward reads only (afterSeq or a forward cursor): every event of the
   * range, edits and deletions of older messages included, so a client that
   * fills a gap from history misses nothing the live stream would have shown.
   */
  events: z.array(RoomEvent).optional(),
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

/**
 * The last message of a room as a room list shows it: a preview (the first
 * 100 characters) or, if it was deleted, a tombstone with no content.
 */
export const LastMessage = z.union([
  z.object({ id: z.string(), seq: z.number().int(), sender: UserId, preview: z.string(), ts: Timestamp }),
  z.object({ id: z.string(), seq: z.number().int(), sender: UserId, deleted: z.literal(true), ts: Timestamp }),
]);
export type LastMessage = z.infer<typeof LastMessage>;

export const RoomSummary = z.object({
  roomId: RoomId,
  kind: RoomKind,
  role: Role,
  joinedTs: Timestamp,
  lastActivityTs: Timestamp,
  lastSeq: z.number().int(),
  /**
   * Messages after your read position that are not deleted and not yours,
   * counted by the room itself (so right at once after a read or a deletion),
   * capped at 999. Absent only if the room could not be asked (the list then
   * falls back to the index).
   */
  unreadCount: z.number().int().min(0).optional(),
  /** The room's last message (preview or tombstone); null if it has none. */
  lastMessage: LastMessage.nullable().optional(),
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

export const EditMessageBody = z.object({ content: z.string() });

export const DeleteRoomResult = z.object({ roomId: RoomId, deleted: z.literal(true), restorableUntil: Timestamp });
export const RestoreRoomResult = z.object({ roomId: RoomId, restored: z.literal(true) });

export const SyncEventType = z.enum(["room_joined", "room_left", "room_deleted", "room_restored", "room_activity"]);
export const SyncEvent = z.object({ type: SyncEventType, roomId: RoomId, ts: Timestamp });
export const SyncQuery = z.object({ cursor: z.string().max(256).optional() });
export const SyncPage = z.object({
  events: z.array(SyncEvent),
  /** Pass it to the next call. */
  cursor: z.string(),
  /** More events wait: call again at once with `cursor`. */
  hasMore: z.boolean(),
});

export const PresenceEntry = z.object({
  userId: UserId,
  online: z.boolean(),
  /** Live connections of the user in this room. */
  devices: z.number().int(),
  /** When the user was last online here; null while online, if never, or if hidden. */
  lastSeen: Timestamp.nullable(),
});
export const PresenceList = z.object({ roomId: RoomId, presence: z.array(PresenceEntry) });

export const ReadBody = z.object({ seq: z.number().int().min(0) });
export const ReadResult = z.object({ roomId: RoomId, seq: z.number().int() });
export const Receipt = z.object({ userId: UserId, seq: z.number().int() });
export const ReceiptList = z.object({ roomId: RoomId, receipts: z.array(Receipt) });

export const Visibility = z.enum(["everyone", "nobody"]);
export const SettingsBody = z.object({
  /** "nobody": others always see you offline, with no last-seen time. */
  presenceVisibility: Visibility.optional(),
  /** "nobody": your read position is shown to nobody but your own devices. */
  readReceiptVisibility: Visibility.optional(),
});
export const Settings = z.object({ presenceVisibility: Visibility, readReceiptVisibility: Visibility });

/** Days a room keeps messages; older ones are trimmed to tombstones. */
export const RetentionDays = z.number().int().min(1).max(36_500);
export const RoomSettingsBody = z.object({
  /** null: the deployment's default (MESSAGE_RETENTION_DAYS; unset keeps messages forever). */
  retentionDays: RetentionDays.nullable(),
});
export type RoomSettingsBody = z.infer<typeof RoomSettingsBody>;
export const RoomSettings = z.object({
  roomId: RoomId,
  /** The room's own setting; null when it follows the deployment default. */
  retentionDays: RetentionDays.nullable(),
  /** What applies: the room's setting, else the default; null keeps messages forever. */
  effectiveRetentionDays: RetentionDays.nullable(),
});
export type RoomSettings = z.infer<typeof RoomSettings>;

export const RoleBody = z.object({ role: z.enum(["admin", "member"]) });
export const ModerationResult = z.object({ roomId: RoomId, userId: UserId, action: z.enum(["kicked", "banned", "unbanned", "role_changed"]), role: Role.optional() });
/** A browser PushSubscription as `subscription.toJSON()` gives it. */
export const PushSubscriptionBody = z.object({
  endpoint: z.url().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: z.string().min(1).max(256), auth: z.string().min(1).max(64) }),
});
export type PushSubscriptionBody = z.infer<typeof PushSubscriptionBody>;
export const UnregisterPushBody = z.object({ endpoint: z.string().max(2048) });
export const MuteBody = z.object({ until: z.iso.datetime({ offset: true }).nullable().optional() });
export const MuteResult = z.object({ roomId: RoomId, muted: z.boolean(), until: Timestamp.nullable() });
/** What a push notification carries (the JSON the service worker decrypts). */
export const PushPayload = z.object({ type: z.literal("message"), roomId: RoomId, seq: z.number().int(), messageId: z.string(), sender: UserId, preview: z.string(), ts: Timestamp });
export type PushPayload = z.infer<typeof PushPayload>;

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
export type EditMessageBody = z.infer<typeof EditMessageBody>;
export type DeleteRoomResult = z.infer<typeof DeleteRoomResult>;
export type RestoreRoomResult = z.infer<typeof RestoreRoomResult>;
export type SyncEventType = z.infer<typeof SyncEventType>;
export type SyncEvent = z.infer<typeof SyncEvent>;
export type SyncQuery = z.infer<typeof SyncQuery>;
export type SyncPage = z.infer<typeof SyncPage>;
export type PresenceEntry = z.infer<typeof PresenceEntry>;
export type PresenceList = z.infer<typeof PresenceList>;
export type ReadBody = z.infer<typeof ReadBody>;
export type ReadResult = z.infer<typeof ReadResult>;
export type Receipt = z.infer<typeof Receipt>;
export type ReceiptList = z.infer<typeof ReceiptList>;
export type Visibility = z.infer<typeof Visibility>;
export type SettingsBody = z.infer<typeof SettingsBody>;
export type Settings = z.infer<typeof Settings>;
export type RoleBody = z.infer<typeof RoleBody>;
export type ModerationResult = z.infer<typeof ModerationResult>;
