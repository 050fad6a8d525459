/**
 * The room's budgets for everything a member does here besides sending
 * (sends have their own two buckets, sending.ts). Where each budget lives:
 *
 * - Here, per user in this room, exact and free (the room serialises them):
 *   - `mutation` (ROOM_MUTATIONS_PER_MINUTE): edits, deletions, kick, ban,
 *     unban, roles, room settings, room deletion and restore.
 *   - `read` (ROOM_READS_PER_MINUTE): history pages, members, active users,
 *     presence, receipts, room settings.
 *   - `signal` (ROOM_SIGNALS_PER_MINUTE): read marks and typing notices, over
 *     HTTP and over the socket. Both are cheap and come often by nature (a
 *     read per message, a typing notice every few seconds), so the bucket is
 *     set far above that: only a client that floods them meets it.
 * - In the user's UserLimits object (src/user/limits.ts), across rooms:
 *   creation, direct rooms, joins, leaves, connect tickets, mutes, push
 *   subscriptions, privacy settings, the room list and the sync log, checked
 *   by the Worker before it calls the room (src/http/budgets.ts). Those are
 *   actions whose cost is not one room's, or that reach rooms the user is not
 *   yet in, so only a per-user object counts them exactly.
 *
 * And the outbox's back-pressure: while more rows wait for D1 than
 * OUTBOX_MAX_PENDING (D1 down, or a flood of audited changes), the
 * mutations that add rows are refused with `rate_limited` and a Retry-After,
 * so the outbox cannot grow without bound.
 */
import type { ErrorBody, Result } from "../protocol";
import { TokenBuckets, rateLimitedError } from "../kernel/token-bucket";
import type { RoomLimits } from "../kernel/config";
import type { Clock } from "../kernel/clock";
import type { Outbox } from "./outbox";

export type RoomBudget = "mutation" | "read" | "signal";

/** How long a refused mutation is asked to wait while the outbox drains: a couple of flushes. */
export const OUTBOX_RETRY_AFTER_S = 5;

export class RoomBudgets {
  readonly #buckets: Record<RoomBudget, TokenBuckets>;

  constructor(
    private readonly limits: Pick<RoomLimits, "mutationsPerMinute" | "readsPerMinute" | "signalsPerMinute" | "outboxMaxPending">,
    private readonly clock: Clock,
  ) {
    this.#buckets = {
      mutation: TokenBuckets.perMinute(limits.mutationsPerMinute),
      read: TokenBuckets.perMinute(limits.readsPerMinute),
      signal: TokenBuckets.perMinute(limits.signalsPerMinute),
    };
  }

  /** Takes one token of `budget` for `userId`; the refusal to answer, or null. */
  take(userId: string, budget: RoomBudget): ErrorBody | null {
    const verdict = this.#buckets[budget].take(userId, this.clock.now());
    if (verdict.allowed) return null;
    return rateLimitedError(`too many ${NAMES[budget]} in this room: at most ${verdict.limit} a minute`, verdict);
  }

  /** The outbox is over its cap: a refusal for the mutations that would add to it, or null. */
  outboxFull(outbox: Pick<Outbox, "pending">): ErrorBody | null {
    const cap = this.limits.outboxMaxPending;
    if (outbox.pending < cap) return null;
    return {
      code: "rate_limited",
      message: "this room has too many changes waiting to be indexed; try again shortly",
      retryAfter: OUTBOX_RETRY_AFTER_S,
      limit: cap,
      remaining: 0,
      reset: OUTBOX_RETRY_AFTER_S,
    };
  }
}

const NAMES: Record<RoomBudget, string> = { mutation: "changes", read: "reads", signal: "read marks and typing notices" };

/** Runs `then` once `refusal` is null; otherwise answers the refusal. */
export function unless<T>(refusal: ErrorBody | null, then: () => Result<T>): Result<T> {
  return refusal ? { ok: false, error: refusal } : then();
}
