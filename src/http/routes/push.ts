/**
 * Web Push registration and room mutes. Notifications themselves go out from
 * the push queue's consumer. A registration is refused unless its endpoint is
 * on a known push service and its keys are well formed; each user holds at
 * most PUSH_SUBSCRIPTIONS_PER_USER (409 too_many_push_subscriptions), and an
 * endpoint belongs to the user who registered it (409 push_endpoint_taken).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { ErrorResponse, MuteBody, MuteResult, PushSubscriptionBody, UnregisterPushBody } from "../../protocol";
import { addSubscription, clearMute, removeSubscription, setMute } from "../../db/push";
import { configOf } from "../../kernel/config";
import { endpointAllowed, keysValid } from "../../push/endpoints";
import type { AuthedEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { RoomParams, bearer, errorResponses, json, roomStub } from "./shared";

export function pushRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/push/vapid-public-key",
      summary: "The VAPID public key to pass to PushManager.subscribe as applicationServerKey",
      security: bearer,
      responses: { 200: json(z.object({ publicKey: z.string().nullable() }), "The key (null if push is not configured)"), ...errorResponses },
    }),
    async (c) => c.json({ publicKey: configOf(c.env).vapid?.publicKey ?? null }, 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/me/push-subscriptions",
      summary: "Register a push subscription (PushSubscription.toJSON()) for notifications while you are offline",
      security: bearer,
      request: { body: { content: { "application/json": { schema: PushSubscriptionBody } }, required: true } },
      responses: {
        200: json(z.object({ registered: z.literal(true) }), "Registered"),
        ...errorResponses,
        409: json(ErrorResponse, "push_endpoint_taken (another user registered this endpoint) or too_many_push_subscriptions"),
      },
    }),
    async (c) => {
      // Issue 15, item 8: known push services only, keys a browser could have made, a cap per
      // user, and an endpoint stays with the user who registered it (src/push/endpoints.ts).
      const body = c.req.valid("json");
      const config = configOf(c.env);
      if (!endpointAllowed(body.endpoint, config.push.endpointHosts, config.devAuth)) {
        throw new ApiError("invalid_request", "push endpoints must be https URLs of a known push service (PUSH_ENDPOINT_HOSTS)");
      }
      if (!(await keysValid(body.keys))) {
        throw new ApiError("invalid_request", "keys: p256dh must be a base64url P-256 public key (65 bytes, uncompressed), auth 16 base64url bytes");
      }
      const sub = { endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth };
      const added = await addSubscription(c.env.DB, c.get("identity").userId, sub, config.push.maxPerUser);
      if (added === "taken") throw new ApiError("push_endpoint_taken", "this push endpoint is registered to another user");
      if (added === "full") {
        throw new ApiError("too_many_push_subscriptions", `at most ${config.push.maxPerUser} push subscriptions per user: unregister one first`);
      }
      return c.json({ registered: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/me/push-subscriptions",
      summary: "Unregister a push subscription by endpoint",
      security: bearer,
      request: { body: { content: { "application/json": { schema: UnregisterPushBody } }, required: true } },
      responses: { 200: json(z.object({ removed: z.boolean() }), "Removed"), ...errorResponses },
    }),
    async (c) => c.json({ removed: await removeSubscription(c.env.DB, c.get("identity").userId, c.req.valid("json").endpoint) }, 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/rooms/{roomId}/mute",
      summary: "Mute the room's push notifications, until `until` or until unmuted",
      security: bearer,
      request: { params: RoomParams, body: { content: { "application/json": { schema: MuteBody } }, required: false } },
      responses: { 200: json(MuteResult, "Muted"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      unwrap(await roomStub(c.env, roomId).activeUsers(userId)); // members only
      const until = (await c.req.json().catch(() => ({})) as { until?: string | null }).until ?? null;
      const parsed = MuteBody.safeParse({ until });
      if (!parsed.success) throw new ApiError("invalid_request", "until: invalid datetime");
      const untilTs = until === null ? null : Date.parse(until);
      await setMute(c.env.DB, userId, roomId, untilTs);
      return c.json({ roomId, muted: true, until: untilTs === null ? null : new Date(untilTs).toISOString() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/rooms/{roomId}/mute",
      summary: "Unmute the room",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(MuteResult, "Unmuted"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      await clearMute(c.env.DB, c.get("identity").userId, roomId);
      return c.json({ roomId, muted: false, until: null }, 200);
    },
  );
}
