/**
 * Dev auth only (DEV_AUTH = "true", never in a deployment): tokens for any
 * user, and hooks for fault tests and benchmarks. Without DEV_AUTH each route
 * answers 404 not_found, as if it did not exist. Public: a dev token is how a
 * local client gets its bearer token in the first place.
 *
 * Safety nets for a DEV_AUTH set where it should not be: the routes answer
 * only requests to a loopback host and from no page of another site (else
 * the same 404), and a dev token carries the admin claim only with the
 * second switch DEV_AUTH_ADMIN.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { DevToken, DevTokenBody, RoomId, UserId } from "../../protocol";
import { isLoopbackHost } from "../../auth/loopback";
import { signDevToken } from "../../auth/tokens";
import { type AuthConfig, configOf } from "../../kernel/config";
import { misconfigured } from "../auth";
import type { AppEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { errorResponses, json, roomStub } from "./shared";

const DevSeedBody = z.object({ userId: UserId, count: z.number().int().min(1).max(100_000) });

const notEnabled = () => new ApiError("not_found", "dev auth is not enabled");

/**
 * The auth configuration, or 404 unless DEV_AUTH is on, the request is to a
 * loopback host, and it does not come from a page of another site: under
 * `npm start` (ALLOWED_ORIGINS "*") any page a developer visits could
 * otherwise mint tokens from their localhost.
 */
function devAuth(env: Env, url: string, origin: string | undefined): AuthConfig {
  const config = configOf(env);
  if (!config.devAuth || !isLoopbackHost(new URL(url).hostname) || (origin !== undefined && !loopbackOrigin(origin))) throw notEnabled();
  return config.auth;
}

function loopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    return false; // "null" (a sandboxed frame, a file) or garbage: not one of ours
  }
}

function roomParam(value: string): string {
  const roomId = RoomId.safeParse(value);
  if (!roomId.success) throw new ApiError("invalid_request", "invalid room id");
  return roomId.data;
}

export function devRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/dev/token",
      summary: "Dev auth only: a token for any user id (404 unless DEV_AUTH is \"true\" and the host is loopback; admin tokens need DEV_AUTH_ADMIN)",
      request: { body: { content: { "application/json": { schema: DevTokenBody } }, required: true } },
      responses: { 200: json(DevToken, "A token valid for 24 hours"), 403: { ...errorResponses[403], description: "forbidden: an admin token asked for without DEV_AUTH_ADMIN" }, 404: errorResponses[404] },
    }),
    async (c) => {
      const auth = devAuth(c.env, c.req.url, c.req.header("Origin"));
      if (!auth.secret) throw notEnabled();
      const { problems } = configOf(c.env);
      if (problems.length > 0) throw misconfigured(problems);
      const { userId, admin } = c.req.valid("json");
      if (admin === true && !auth.devAuthAdmin) throw new ApiError("forbidden", 'admin dev tokens need DEV_AUTH_ADMIN="true"');
      return c.json({ token: await signDevToken(auth, userId, admin === true) }, 200);
    },
  );

  /** Abort a room object as a crash would (fault tests). */
  app.post("/api/dev/rooms/:roomId/abort", async (c) => {
    devAuth(c.env, c.req.url, c.req.header("Origin"));
    const roomId = roomParam(c.req.param("roomId"));
    try {
      await roomStub(c.env, roomId).abortForTesting();
    } catch {
      // The abort surfaces as an error on this call: that is the point.
    }
    return c.json({ aborted: true });
  });

  /**
   * Append `count` (at most 100,000) messages from `userId`, a member, straight
   * into a room's log. For benchmarks that need a long history.
   */
  app.post("/api/dev/rooms/:roomId/seed", async (c) => {
    devAuth(c.env, c.req.url, c.req.header("Origin"));
    const roomId = roomParam(c.req.param("roomId"));
    const body = DevSeedBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) throw new ApiError("invalid_request", "expected { userId, count }");
    return c.json(unwrap(await roomStub(c.env, roomId).seedForBench(body.data.userId, body.data.count)), 200);
  });
}
