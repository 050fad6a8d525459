/** The SDK's one error type, and how an error answer of the API becomes one. */
import { z } from "zod";
import { type ErrorCode, errorCodeList, isErrorCode, permanentErrorCodes } from "../protocol";

/**
 * Codes only the SDK produces: the request never got an answer from the server
 * (network_error, cancelled), or the answer did not have the shape the protocol
 * promises (invalid_response: a proxy's page, a server of another version).
 */
export type ClientErrorCode = "network_error" | "cancelled" | "invalid_response";
export type ChatErrorCode = ErrorCode | ClientErrorCode;

/**
 * What an error answer must carry for its code to be believed. The rest is
 * read leniently (a missing message falls back to the code), and every other
 * top-level field is kept as `details`.
 */
const ErrorAnswer = z.looseObject({
  error: z.object({ code: z.enum(errorCodeList), message: z.unknown().optional(), retryAfter: z.unknown().optional() }),
});

/** Every failure the SDK reports. Branch on `code`; `message` is for people. */
export class ChatError extends Error {
  override readonly name = "ChatError";

  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** HTTP status, when the answer came over HTTP. */
    readonly status?: number,
    /** Seconds to wait before retrying, when the server said so. */
    readonly retryAfter?: number,
    /** Other fields of the error answer, e.g. `rooms` and `cursor` with `resync_required`. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** True when retrying the same request can never succeed. */
  get permanent(): boolean {
    return this.code === "cancelled" || (isErrorCode(this.code) && permanentErrorCodes.has(this.code));
  }

  static fromBody(body: unknown, status?: number): ChatError {
    const parsed = ErrorAnswer.safeParse(body);
    if (parsed.success) {
      const { error, ...details } = parsed.data;
      return new ChatError(
        error.code,
        typeof error.message === "string" ? error.message : error.code,
        status,
        typeof error.retryAfter === "number" ? error.retryAfter : undefined,
        Object.keys(details).length > 0 ? details : undefined,
      );
    }
    return new ChatError(status !== undefined && status >= 500 ? "internal" : "invalid_request", `unexpected answer (HTTP ${status ?? "?"})`, status);
  }
}
