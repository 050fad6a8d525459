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
  ) {
    super(message);
  }

  get status(): number {
    return statusOf(this.code);
  }

  static from(body: ErrorBody): ApiError {
    return new ApiError(body.code, body.message, body.retryAfter);
  }

  toResponse(): Response {
    const error: ErrorBody = { code: this.code, message: this.message };
    const headers = new Headers();
    if (this.retryAfter !== undefined) {
      error.retryAfter = this.retryAfter;
      headers.set("Retry-After", String(Math.ceil(this.retryAfter)));
    }
    return Response.json({ error }, { status: this.status, headers });
  }
}

/** Unwraps a room's answer, throwing its error at the edge. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw ApiError.from(result.error);
  return result.value;
}
