/**
 * The authenticated sub-app: every route that acts for a caller. Its guard
 * covers whole prefixes, so any request under them (a route, a wrong method,
 * a path that does not exist) needs a valid bearer token before anything else
 * is looked at. The few public routes under the same prefixes (the room
 * WebSocket, signed downloads) are routes of the public app, registered before
 * this one is mounted, so they answer before the guard would run: public by
 * route, never by a pattern over the path.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { requireAdmin, requireUser } from "./auth";
import { budgetRoutes } from "./budgets";
import type { AuthedEnv } from "./context";
import { apiApp } from "./openapi";
import { adminRoutes } from "./routes/admin";
import { inboxRoutes } from "./routes/inbox";
import { mediaUrlRoute } from "./routes/media-downloads";
import { uploadRoutes } from "./routes/media-uploads";
import { messageRoutes } from "./routes/messages";
import { presenceRoutes } from "./routes/presence";
import { pushRoutes } from "./routes/push";
import { roomRoutes } from "./routes/rooms";
import { settingsRoutes } from "./routes/settings";
import { statsRoutes } from "./routes/stats";
import { syncRoutes } from "./routes/sync";

/** Where the authenticated routes live. */
const PREFIXES = ["/api/rooms", "/api/rooms/*", "/api/direct/*", "/api/sync", "/api/inbox/connect-ticket", "/api/push/*", "/api/me/*"];

export function authenticatedApp(): OpenAPIHono<AuthedEnv> {
  const app = apiApp<AuthedEnv>();
  for (const prefix of PREFIXES) app.use(prefix, requireUser);
  app.use("/api/admin/*", requireUser, requireAdmin);
  // Cross-room budgets (budgets.ts): after the guard, before every route.
  budgetRoutes(app);
  roomRoutes(app);
  messageRoutes(app);
  syncRoutes(app);
  inboxRoutes(app);
  pushRoutes(app);
  presenceRoutes(app);
  adminRoutes(app);
  statsRoutes(app);
  settingsRoutes(app);
  uploadRoutes(app);
  mediaUrlRoute(app);
  return app;
}
