/**
 * The Worker's own responses (JSON, errors, 404s) get `nosniff`, like the
 * assets do through dist/web/_headers, so no browser ever reads an API answer
 * as HTML or script. Upgrades (101) are left alone.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

export const noSniff: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.res.status === 101 || c.res.webSocket) return;
  try {
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  } catch {
    // Immutable headers (a response passed through from a Durable Object): copy it.
    const res = new Response(c.res.body, c.res);
    res.headers.set("X-Content-Type-Options", "nosniff");
    c.res = res;
  }
};
