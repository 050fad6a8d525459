/**
 * WebSocket upgrades per client IP, with the Workers Rate Limiting binding
 * (UPGRADE_LIMITER in wrangler.toml: 60 a minute). Every upgrade attempt
 * counts, good ticket or not, so a client cannot storm the rooms with
 * connects or guess tickets at speed. The binding's counters are per
 * Cloudflare location and approximate, which suits a storm guard; the exact
 * per-user cap lives in UserLimits. Without the binding, or with
 * UPGRADE_RATE_LIMIT = "off" (local test servers that open hundreds of
 * sockets from 127.0.0.1), nothing is limited here.
 */
import type { MiddlewareHandler } from "hono";
import { configOf } from "../kernel/config";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

/** The binding's period (seconds): the longest a refused client waits. */
export const UPGRADE_PERIOD_S = 60;

export const limitUpgrades: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return next();
  // Optional: a deployment may leave the binding out of wrangler.toml.
  const limiter: Env["UPGRADE_LIMITER"] | undefined = c.env.UPGRADE_LIMITER;
  // Cloudflare always sets CF-Connecting-IP; a request without it did not come through the edge.
  const ip = c.req.header("CF-Connecting-IP");
  if (!limiter || !ip || configOf(c.env).upgradeRateLimitOff) return next();
  const { success } = await limiter.limit({ key: `ws:${ip}` });
  if (!success) throw new ApiError("rate_limited", "too many connection attempts from your address; try again later", UPGRADE_PERIOD_S);
  return next();
};
