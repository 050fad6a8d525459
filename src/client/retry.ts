/**
 * The SDK's one retry loop, for requests that may be repeated safely (a send
 * with its clientId, an upload part, completing an upload): network failures
 * and server errors are tried again after a jittered backoff, or after the
 * server's Retry-After; permanent errors and cancellation end it at once.
 */
import { backoffDelay, sleep } from "./backoff";
import { ChatError } from "./errors";

export interface RetryOptions {
  /** Attempts in all; the last one's error is thrown. Unlimited when absent. */
  attempts?: number;
  /** Ends the retries: an abort during a wait rejects with `cancelled`. */
  signal?: AbortSignal;
  /** The message of that `cancelled` error, e.g. "send was cancelled". */
  cancelledMessage: string;
  /** Errors that are not permanent in general but end these retries (e.g. an upload that no longer exists). */
  isFinal?(error: ChatError): boolean;
}

export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ChatError) || error.permanent || options.isFinal?.(error) || options.signal?.aborted) throw error;
      if (options.attempts !== undefined && i + 1 >= options.attempts) throw error;
      const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : backoffDelay(i);
      try {
        await sleep(wait, options.signal);
      } catch {
        throw new ChatError("cancelled", options.cancelledMessage);
      }
    }
  }
}
