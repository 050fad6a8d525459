/**
 * Exponential backoff with full jitter: after a deploy every client reconnects
 * at once, and jitter spreads them out instead of letting them arrive in waves.
 * Every wait of the SDK before trying again (reconnects and retries) comes from here.
 */

/** A delay in [cap/2, cap), cap = min(maxMs, baseMs * 2^attempt). `random` is in [0, 1). */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 5_000, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return cap / 2 + random() * (cap / 2);
}

/** Waits `ms`; rejects with the signal's reason if it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
