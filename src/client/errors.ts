import { type ErrorCode, isErrorCode, permanentErrorCodes } from "../protocol";

/** Codes only the SDK produces: the request never got an answer from the server. */
export type ClientErrorCode = "network_error" | "cancelled";
export type ChatErrorCode = ErrorCode | ClientErrorCode;

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
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof error === "object" && error !== null) {
      const { code, message, retryAfter } = error as Record<string, unknown>;
      if (isErrorCode(code)) {
        const { error: _error, ...details } = body as Record<string, unknown>;
        return new ChatError(
          code,
          typeof message === "string" ? message : code,
          status,
          typeof retryAfter === "number" ? retryAfter : undefined,
          Object.keys(details).length > 0 ? details : undefined,
        );
      }
    }
    return new ChatError(status !== undefined && status >= 500 ? "internal" : "invalid_request", `unexpected answer (HTTP ${status ?? "?"})`, status);
  }
}
