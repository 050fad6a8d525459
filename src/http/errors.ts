/**
 * One error type for the HTTP edge: thrown once where a Result fails, turned
 * into `{ error: { code, message } }` with the matching status in app.onError.
 */
import { type ErrorBody, type ErrorCode, type Result, statusOf } from "../protocol";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfter?: number,
    readonly rateLimit?: { limit: number; remaining: number; reset: number },
  ) {
    super(message);
  }

  get status(): number {
    return statusOf(this.code);
  }

  static from(body: ErrorBody): ApiError {
    const rateLimit =
      body.limit !== undefined && body.remaining !== undefined && body.reset !== undefined
        ? { limit: body.limit, remaining: body.remaining, reset: body.reset }
        : undefined;
    return new ApiError(body.code, body.message, body.retryAfter, rateLimit);
  }

  toResponse(): Response {
    const error: ErrorBody = { code: this.code, message: this.message };
    const headers = new Headers();
    if (this.retryAfter !== undefined) {
      error.retryAfter = this.retryAfter;
      headers.set("Retry-After", String(Math.max(1, Math.ceil(this.retryAfter))));
    }
    if (this.rateLimit) {
      Object.assign(error, this.rateLimit);
      headers.set("X-RateLimit-Limit", String(this.rateLimit.limit));
      headers.set("X-RateLimit-Remaining", String(this.rateLimit.remaining));
      headers.set("X-RateLimit-Reset", String(this.rateLimit.reset));
    }
    return Response.json({ error }, { status: this.status, headers });
  }
}

/** Unwraps a room's answer, throwing its error at the edge. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw ApiError.from(result.error);
  return result.value;
}
