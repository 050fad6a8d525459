/**
 * The Worker's HTTP surface: the middleware every request passes, the public
 * routes, and the authenticated sub-app (src/http/authenticated.ts) mounted
 * after them. Every room action is then decided by the room object itself
 * (its SQLite holds the membership), never by the D1 index, which may lag.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { configOf } from "../kernel/config";
import { checkHealth } from "../ops/health";
import { errorText, log } from "../ops/log";
import { workerMetricsOf } from "../ops/metrics";
import { authenticatedApp } from "./authenticated";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";
import { apiApp } from "./openapi";
import { originAllowed } from "./origins";
import { devRoutes } from "./routes/dev";
import { downloadRoute } from "./routes/media-downloads";
import { isMediaUpload } from "./routes/media-uploads";
import { socketRoutes } from "./routes/sockets";
import { noSniff } from "./security-headers";
import { limitUpgrades } from "./upgrade-limit";

/** Request bodies are small JSON; anything bigger is refused before it is read. */
const MAX_BODY_BYTES = 256 * 1024;

export function createApp(): OpenAPIHono<AppEnv> {
  const app = apiApp<AppEnv>();
  app.use("*", noSniff);
  app.use("*", limitUpgrades);
  // A request id for the logs (Cloudflare's ray id when there is one), and the Worker's own figures.
  app.use("/api/*", async (c, next) => {
    const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
    c.set("requestId", requestId);
    const started = Date.now();
    await next();
    const metrics = workerMetricsOf(c.env);
    metrics.count("http_requests", String(c.res.status));
    metrics.observe("http_ms", Date.now() - started);
    try {
      c.res.headers.set("X-Request-Id", requestId);
    } catch {
      // Some answers (an upgrade's 101, a response passed through from a fetch) have immutable headers.
    }
  });

  app.use("/api/*", async (c, next) => {
    const origins = configOf(c.env).allowedOrigins;
    return cors({ origin: (origin) => (originAllowed(origin, origins) ? origin : null), maxAge: 86400 })(c, next);
  });
  const jsonBodyLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError("content_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);
    },
  });
  // File uploads stream to R2 under their own limit (MEDIA_MAX_BYTES), checked by their routes.
  app.use("/api/*", (c, next) => (isMediaUpload(c.req.method, c.req.path) ? next() : jsonBodyLimit(c, next)));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });

  // ---- public routes ---------------------------------------------------------

  /** Readiness: D1, R2 and a room object each answer (with timings), or 503 naming what failed. */
  app.get("/api/health", async (c) => {
    const health = await checkHealth(c.env);
    return c.json(health, health.ok ? 200 : 503, { "Cache-Control": "no-store" });
  });
  devRoutes(app);
  socketRoutes(app);
  downloadRoute(app);

  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edge-chat",
      version: "1",
      description: "Multi-room chat on Cloudflare Workers. Errors are `{ error: { code, message } }` with a matching HTTP status.",
    },
  });

  // ---- authenticated routes (after every public one: see authenticated.ts) ---

  app.route("/", authenticatedApp());

  app.notFound(() => new ApiError("not_found", "no such route").toResponse());
  app.onError((error, c) => {
    // The path only: queries may hold a connect ticket or a signed URL's signature.
    const where = { req: c.get("requestId"), method: c.req.method, path: c.req.path };
    if (error instanceof ApiError || error instanceof HTTPException) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(error.status === 413 ? "content_too_large" : error.status === 401 ? "unauthorized" : "invalid_request", error.message || "invalid request");
      log(apiError.status >= 500 ? "error" : "info", "http_error", { ...where, status: apiError.status, code: apiError.code });
      return apiError.toResponse();
    }
    // Never send a stack to a client; log it without request bodies or tokens.
    log("error", "unhandled_error", { ...where, error: errorText(error) });
    return new ApiError("internal", "internal error").toResponse();
  });
  return app;
}
