/** A room's settings: today its message retention. Members read them; owners and admins change them. */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { RoomSettings, RoomSettingsBody } from "../../protocol";
import type { AuthedEnv } from "../context";
import { unwrap } from "../errors";
import { RoomParams, bearer, errorResponses, json, roomStub } from "./shared";

export function settingsRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/settings",
      summary: "The room's settings (members)",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(RoomSettings, "Settings"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).settings(c.get("identity").userId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/rooms/{roomId}/settings",
      summary: "Set the room's message retention (owners, room admins, deployment admins)",
      description:
        "`retentionDays`: messages older than this many days become tombstones (`deleted` and `expired`, no content or attachments) and the events around them are dropped; a resume from before the trim point is answered `resync` `too_far_behind`. null follows the deployment default (MESSAGE_RETENTION_DAYS; unset keeps messages forever). Trimming runs in the room's alarm, 500 events at a time.",
      security: bearer,
      request: { params: RoomParams, body: { content: { "application/json": { schema: RoomSettingsBody } }, required: true } },
      responses: { 200: json(RoomSettings, "Settings"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).setRetention(c.get("identity"), c.req.valid("json").retentionDays)), 200);
    },
  );
}
