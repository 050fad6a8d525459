/**
 * Error codes shared by the HTTP API, WebSocket error frames and the SDK.
 * A code is a contract: clients branch on it, so codes are only ever added.
 */
export const ErrorCodes = {
  unauthorized: 401,
  forbidden: 403,
  not_member: 403,
  room_not_found: 404,
  room_exists: 409,
  invalid_request: 400,
  content_too_large: 413,
  rate_limited: 429,
  internal: 500,
  not_found: 404,
  /** The room was deleted: every operation on it answers this, for good. */
  room_deleted: 410,
  message_not_found: 404,
  /** A sync cursor older than the retention period: rebuild the room list from `listRooms`. */
  resync_required: 410,
  unsupported_media_type: 415,
  /** The user already has MAX_CONNECTIONS_PER_USER live WebSockets (rooms and inbox together). */
  too_many_connections: 429,
  /** The deployment's configuration is unsafe to serve (the message names the setting); an operator must fix it. */
  misconfigured: 500,
  /** The push endpoint is registered to another user: it stays theirs until they unregister it or the push service drops it. */
  push_endpoint_taken: 409,
  /** The user already has PUSH_SUBSCRIPTIONS_PER_USER push subscriptions: unregister one first. */
  too_many_push_subscriptions: 409,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export const errorCodeList = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

export function statusOf(code: ErrorCode): number {
  return ErrorCodes[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ErrorCodes, value);
}

/** Codes a retry cannot fix: a client outbox gives up on these at once. */
export const permanentErrorCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "unauthorized",
  "forbidden",
  "not_member",
  "room_not_found",
  "room_exists",
  "invalid_request",
  "content_too_large",
  "room_deleted",
  "message_not_found",
  "resync_required",
  "unsupported_media_type",
  "push_endpoint_taken",
  "too_many_push_subscriptions",
]);

/** An error as a value: what rooms return and what the edge turns into a response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Seconds to wait before retrying, where waiting helps. */
  retryAfter?: number;
  /** With rate_limited: the bucket's size, what is left, and seconds until it is full. */
  limit?: number;
  remaining?: number;
  reset?: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string, retryAfter?: number): Result<never> => ({
  ok: false,
  error: retryAfter === undefined ? { code, message } : { code, message, retryAfter },
});
