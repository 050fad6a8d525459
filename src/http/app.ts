/**
 * The Worker's HTTP surface. Every request is authenticated here; every room
 * action is then decided by the room object itself (its SQLite holds the
 * membership), never by the D1 index, which may lag.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { DevToken, DevTokenBody, RoomId, UserId } from "../protocol";
import { signDevToken } from "../auth/tokens";
import { configOf } from "../kernel/config";
import { requireUser } from "./auth";
import type { AppEnv } from "./context";
import { ApiError, unwrap } from "./errors";
import { originAllowed } from "./origins";
import { isMediaUpload, isSignedDownload, mediaRoutes } from "./routes/media";
import { messageRoutes } from "./routes/messages";
import { roomRoutes } from "./routes/rooms";
import { adminRoutes, requireAdmin } from "./routes/admin";
import { syncRoutes } from "./routes/sync";
import { presenceRoutes } from "./routes/presence";
import { inboxRoutes, inboxSocketRoute } from "./routes/inbox";
import { pushRoutes } from "./routes/push";
import { errorResponses, json, roomStub } from "./routes/shared";
import { noSniff } from "./security-headers";
import { limitUpgrades } from "./upgrade-limit";
import { settingsRoutes } from "./routes/settings";
import { statsRoutes } from "./routes/stats";
import { checkHealth } from "../ops/health";
import { errorText, log } from "../ops/log";
import { workerMetricsOf } from "../ops/metrics";

const DevSeedBody = z.object({ userId: UserId, count: z.number().int().min(1).max(100_000) });

/** Request bodies are small JSON; anything bigger is refused before it is read. */
const MAX_BODY_BYTES = 256 * 1024;

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
        throw new ApiError("invalid_request", `${where}${issue?.message ?? "invalid request"}`);
      }
    },
  });

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

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/dev/token",
      summary: "Dev auth only: a token for any user id (404 unless DEV_AUTH is \"true\")",
      request: { body: { content: { "application/json": { schema: DevTokenBody } }, required: true } },
      responses: { 200: json(DevToken, "A token valid for 24 hours"), 404: errorResponses[404] },
    }),
    async (c) => {
      const config = configOf(c.env).auth;
      if (!config.devAuth || !config.secret) throw new ApiError("not_found", "dev auth is not enabled");
      const { userId, admin } = c.req.valid("json");
      return c.json({ token: await signDevToken(config, userId, admin === true) }, 200);
    },
  );

  /** Dev auth only: abort a room object as a crash would (fault tests). */
  app.post("/api/dev/rooms/:roomId/abort", async (c) => {
    if (!configOf(c.env).auth.devAuth) throw new ApiError("not_found", "dev auth is not enabled");
    const roomId = RoomId.safeParse(c.req.param("roomId"));
    if (!roomId.success) throw new ApiError("invalid_request", "invalid room id");
    try {
      await roomStub(c.env, roomId.data).abortForTesting();
    } catch {
      // The abort surfaces as an error on this call: that is the point.
    }
    return c.json({ aborted: true });
  });

  /**
   * Dev auth only: append `count` (at most 100,000) messages from `userId`, a
   * member, straight into a room's log. For benchmarks that need a long history.
   */
  app.post("/api/dev/rooms/:roomId/seed", async (c) => {
    if (!configOf(c.env).auth.devAuth) throw new ApiError("not_found", "dev auth is not enabled");
    const roomId = RoomId.safeParse(c.req.param("roomId"));
    if (!roomId.success) throw new ApiError("invalid_request", "invalid room id");
    const body = DevSeedBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) throw new ApiError("invalid_request", "expected { userId, count }");
    return c.json(unwrap(await roomStub(c.env, roomId.data).seedForBench(body.data.userId, body.data.count)), 200);
  });

  /**
   * The WebSocket. Authenticated by a connect ticket, which the room spends
   * before answering 101; the Origin is checked first so that other sites
   * cannot open sockets with a user's ticket.
   */
  app.get("/api/rooms/:roomId/ws", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError("invalid_request", "expected a WebSocket upgrade");
    if (!originAllowed(c.req.header("Origin"), configOf(c.env).allowedOrigins)) throw new ApiError("forbidden", "origin not allowed");
    const roomId = RoomId.safeParse(c.req.param("roomId"));
    if (!roomId.success) throw new ApiError("invalid_request", "invalid room id");
    return roomStub(c.env, roomId.data).fetch(c.req.raw);
  });

  inboxSocketRoute(app);

  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edge-chat",
      version: "1",
      description: "Multi-room chat on Cloudflare Workers. Errors are `{ error: { code, message } }` with a matching HTTP status.",
    },
  });

  // ---- authenticated routes --------------------------------------------------

  app.use("/api/rooms", requireUser);
  // The WebSocket is authenticated by its ticket, a signed media URL by its signature.
  app.use("/api/rooms/*", async (c, next) =>
    c.req.path.endsWith("/ws") || isSignedDownload(c.req.method, new URL(c.req.url)) ? next() : requireUser(c, next),
  );
  app.use("/api/direct/*", requireUser);
  app.use("/api/sync", requireUser);
  app.use("/api/inbox/connect-ticket", requireUser);
  app.use("/api/push/*", requireUser);
  app.use("/api/me/*", requireUser);
  app.use("/api/admin/*", requireUser, requireAdmin);
  roomRoutes(app);
  messageRoutes(app);
  syncRoutes(app);
  inboxRoutes(app);
  pushRoutes(app);
  presenceRoutes(app);
  adminRoutes(app);
  statsRoutes(app);
  settingsRoutes(app);
  mediaRoutes(app);

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
