/**
 * WebSocket upgrades per client IP, with the Workers Rate Limiting binding
 * (UPGRADE_LIMITER in wrangler.toml: 60 a minute). Every upgrade attempt
 * counts, good ticket or not, so a client cannot storm the rooms with
 * connects or guess tickets at speed. The binding's counters are per
 * Cloudflare location and approximate, which suits a storm guard; the exact
 * per-user cap lives in UserLimits. Without the binding, or with
 * UPGRADE_RATE_LIMIT = "off" (local test servers that open hundreds of
 * sockets from 127.0.0.1), nothing is limited here.
 *
 * An IPv6 client is counted by its /64: one subscriber usually holds a whole
 * /64 and can pick a fresh address in it for every attempt.
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
  const { success } = await limiter.limit({ key: `ws:${limitKeyOf(ip)}` });
  if (!success) throw new ApiError("rate_limited", "too many connection attempts from your address; try again later", UPGRADE_PERIOD_S);
  return next();
};

/**
 * The address an upgrade is counted under: an IPv4 address as it is (an
 * IPv4-mapped IPv6 one as the IPv4 address it maps), an IPv6 address as its
 * first 64 bits, whatever its spelling (`::` compression, leading zeros,
 * letter case, a zone).
 */
export function limitKeyOf(ip: string): string {
  const address = ip.trim().replace(/^\[|\]$/g, "").split("%")[0]!;
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address.toLowerCase();
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or null if it is not one. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const tail: number[] = [];
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) return null;
    tail.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!);
    // What is left ends in ":" ("::ffff:", "1:2:3:4:5:6:"); keep it only as part of a "::".
    text = text.slice(0, v4.index);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : Number.NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const want = 8 - tail.length;
  const missing = want - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest, ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}
