/**
 * Token buckets, kept where they are exact: in the object that serialises the
 * actions they limit. A bucket holds up to `burst` tokens and refills at
 * `perSecond`; each action takes one. Buckets live in memory: an evicted room
 * forgets them, which errs on the side of the user (a fresh, full bucket).
 */
import type { ErrorBody, Verdict } from "../protocol";

export type { Verdict };

export interface BucketConfig {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  #buckets = new Map<string, Bucket>();

  constructor(private readonly config: BucketConfig) {}

  /** A bucket of `n` that refills at `n` a minute: "n a minute", bursts included. */
  static perMinute(n: number): TokenBuckets {
    return new TokenBuckets({ perSecond: n / 60, burst: n });
  }

  take(key: string, now = Date.now()): Verdict {
    const { perSecond, burst } = this.config;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 10_000) this.#forgetFull(now);
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(bucket.tokens),
      retryAfter: allowed ? 0 : Math.ceil(((1 - bucket.tokens) / perSecond) * 1000) / 1000,
      reset: Math.ceil((burst - bucket.tokens) / perSecond),
    };
  }

  /** Gives back a token taken for an action that was then refused elsewhere. */
  refund(key: string): void {
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.config.burst, bucket.tokens + 1);
  }

  /** Full buckets carry no information: drop them so the map stays small. */
  #forgetFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.config.perSecond >= this.config.burst) this.#buckets.delete(key);
    }
  }
}

/** A refusal with the bucket's figures, as the HTTP edge and error frames carry them. */
export function rateLimitedError(message: string, verdict: Verdict): ErrorBody {
  return {
    code: "rate_limited",
    message,
    retryAfter: verdict.retryAfter,
    limit: verdict.limit,
    remaining: verdict.remaining,
    reset: verdict.reset,
  };
}
