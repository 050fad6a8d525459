/**
 * Bearer authentication: `Authorization: Bearer <jwt>` becomes an identity, or
 * the request gets 401. A deployment whose auth settings are unsafe
 * (config.problems) answers every authenticated request 500 misconfigured,
 * naming the settings, instead of accepting tokens it cannot fully check.
 */
import type { MiddlewareHandler } from "hono";
import { type Identity, verifyToken } from "../auth/tokens";
import { configOf } from "../kernel/config";
import type { AuthedEnv } from "./context";
import { ApiError } from "./errors";

/** The caller named by an Authorization header; throws 401 unauthorized without a valid bearer token. */
export async function authenticate(authorization: string | undefined, env: Env): Promise<Identity> {
  const config = configOf(env);
  if (config.problems.length > 0) throw misconfigured(config.problems);
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match?.[1]) throw new ApiError("unauthorized", "missing bearer token");
  const outcome = await verifyToken(match[1], config.auth);
  if (!outcome.ok) throw new ApiError("unauthorized", outcome.reason);
  return outcome.identity;
}

/** 500 misconfigured naming what to fix (setting names only, never values). */
export function misconfigured(problems: readonly string[]): ApiError {
  return new ApiError("misconfigured", `the server is misconfigured: ${problems.join("; ")}`);
}

/** The authenticated sub-app's guard. */
export const requireUser: MiddlewareHandler<AuthedEnv> = async (c, next) => {
  c.set("identity", await authenticate(c.req.header("Authorization"), c.env));
  await next();
};

/** Deployment admins only (the token's admin claim, AUTH_ADMIN_CLAIM); runs after requireUser. */
export const requireAdmin: MiddlewareHandler<AuthedEnv> = async (c, next) => {
  if (!c.get("identity").admin) throw new ApiError("forbidden", "deployment admins only");
  await next();
};
