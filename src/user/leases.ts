/**
 * The connection cap's two calls, for the objects that hold sockets (rooms
 * and the inbox): a lease before the 101, a release when the socket ends.
 */
import { errorText, log } from "../ops/log";
import type { ConnectionLease, ErrorBody } from "../protocol";

/** Takes a lease for a new socket; an error to answer instead of the upgrade, or null. */
export async function acquireLease(env: Env, lease: ConnectionLease): Promise<ErrorBody | null> {
  let decision;
  try {
    decision = await env.USER_LIMITS.getByName(lease.userId).acquireConnection(lease);
  } catch (error) {
    // The per-user object is out of reach: connecting stays up, uncounted (the lease is lost, nothing leaks).
    log("warn", "user_limits_unavailable", { user: lease.userId, op: "acquire_connection", error: errorText(error) });
    return null;
  }
  if (decision.ok) return null;
  return {
    code: "too_many_connections",
    message: `you already have ${decision.open} live connections (at most ${decision.limit}); close one first`,
  };
}

/** Gives a lease back, without waiting: a release that fails is healed by UserLimits at the cap. */
export function releaseLease(env: Env, userId: string, id: string): void {
  void env.USER_LIMITS.getByName(userId)
    .releaseConnection(id)
    .catch(() => undefined);
}
