/**
 * The Worker's own responses (JSON, errors, 404s) get `nosniff`, like the
 * assets do through dist/web/_headers, so no browser ever reads an API answer
 * as HTML or script; and, over https, the same Strict-Transport-Security as
 * the assets (scripts/web-headers.mjs). Upgrades (101) are left alone.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

const STRICT_TRANSPORT_SECURITY = "max-age=63072000";

export const noSniff: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.res.status === 101 || c.res.webSocket) return;
  const https = new URL(c.req.url).protocol === "https:";
  const set = (headers: Headers) => {
    headers.set("X-Content-Type-Options", "nosniff");
    if (https) headers.set("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY);
  };
  try {
    set(c.res.headers);
  } catch {
    // Immutable headers (a response passed through from a Durable Object): copy it.
    const res = new Response(c.res.body, c.res);
    set(res.headers);
    c.res = res;
  }
};
