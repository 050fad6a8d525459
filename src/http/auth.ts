/** Middleware that turns `Authorization: Bearer <jwt>` into an identity, or answers 401. */
import type { MiddlewareHandler } from "hono";
import { verifyToken } from "../auth/tokens";
import { configOf } from "../kernel/config";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new ApiError("unauthorized", "missing bearer token");
  const outcome = await verifyToken(match[1], configOf(c.env).auth);
  if (!outcome.ok) throw new ApiError("unauthorized", outcome.reason);
  c.set("identity", outcome.identity);
  await next();
};
