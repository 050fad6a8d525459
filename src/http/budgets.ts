/**
 * The cross-room budgets at the HTTP edge: before a mutation or read that no
 * single room counts, the Worker takes a token from the caller's UserLimits
 * object (src/user/limits.ts), and refuses with `429 rate_limited`,
 * Retry-After and X-RateLimit-* (the same fields and headers as sends) when
 * it is spent. In-room budgets (edits, deletions, moderation, settings,
 * history and the other room reads, read marks and typing) are the room's
 * own (src/room/budgets.ts), checked where the room serialises them.
 *
 * One table, so that a route which mutates across rooms is budgeted by being
 * listed here rather than by remembering a call in its handler. If the
 * user's object is out of reach the request goes on unbudgeted, as sends do:
 * a budget must not become an outage.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { rateLimitedError } from "../kernel/token-bucket";
import { errorText, log } from "../ops/log";
import type { AuthedEnv } from "./context";
import { ApiError } from "./errors";

export type UserBudget = "mutation" | "read";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Every authenticated route that spends a cross-room budget. */
export const BUDGETED_ROUTES: ReadonlyArray<readonly [Method, string, UserBudget]> = [
  ["POST", "/api/rooms", "mutation"],
  ["GET", "/api/rooms", "read"],
  ["POST", "/api/rooms/:roomId/join", "mutation"],
  ["POST", "/api/rooms/:roomId/leave", "mutation"],
  ["POST", "/api/direct/:userId", "mutation"],
  ["POST", "/api/rooms/:roomId/connect-ticket", "mutation"],
  ["POST", "/api/inbox/connect-ticket", "mutation"],
  ["PUT", "/api/rooms/:roomId/mute", "mutation"],
  ["DELETE", "/api/rooms/:roomId/mute", "mutation"],
  ["POST", "/api/me/push-subscriptions", "mutation"],
  ["DELETE", "/api/me/push-subscriptions", "mutation"],
  ["PATCH", "/api/me/settings", "mutation"],
  ["GET", "/api/me/settings", "read"],
  ["GET", "/api/sync", "read"],
];

/** Takes one token of `budget` for `userId`, or throws the 429. */
export async function spendUserBudget(env: Env, userId: string, budget: UserBudget): Promise<void> {
  let verdict;
  try {
    verdict = await env.USER_LIMITS.getByName(userId).take(budget);
  } catch (error) {
    log("warn", "user_limits_unavailable", { user: userId, op: `take_${budget}`, error: errorText(error) });
    return;
  }
  if (verdict.allowed) return;
  const what = budget === "read" ? "reads" : "changes";
  throw ApiError.from(rateLimitedError(`too many ${what} across your rooms: at most ${verdict.limit} a minute`, verdict));
}

export function userBudget(budget: UserBudget): MiddlewareHandler<AuthedEnv> {
  return async (c, next) => {
    await spendUserBudget(c.env, c.get("identity").userId, budget);
    await next();
  };
}

/** Registers the budgets ahead of the routes (after the guard that sets the identity). */
export function budgetRoutes(app: OpenAPIHono<AuthedEnv>): void {
  for (const [method, path, budget] of BUDGETED_ROUTES) app.on(method, path, userBudget(budget));
}
