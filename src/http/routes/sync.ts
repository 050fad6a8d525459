/** The caller's sync log: what changed in their room list since a cursor. */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { SyncPage, SyncQuery } from "../../protocol";
import { listRooms } from "../../db/room-index";
import { latestSyncCursor, readSync } from "../../db/sync";
import { configOf } from "../../kernel/config";
import type { AuthedEnv } from "../context";
import { ApiError } from "../errors";
import { bearer, errorResponses, json } from "./shared";

export function syncRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/sync",
      summary: "Room-list changes since `cursor` (from the beginning without one), oldest first, at most 500 per call",
      description:
        "Events: room_joined, room_left, room_deleted, room_restored, room_activity. Call again with the returned cursor while hasMore. A cursor older than the retention period (SYNC_RETENTION_DAYS, default 180) gets 410 resync_required with `rooms` (the current room list) and a fresh `cursor` to continue from.",
      security: bearer,
      request: { query: SyncQuery },
      responses: { 200: json(SyncPage, "Changes"), 410: errorResponses[404], ...errorResponses },
    }),
    async (c) => {
      const userId = c.get("identity").userId;
      const { cursor } = c.req.valid("query");
      const outcome = await readSync(c.env.DB, userId, cursor, configOf(c.env).syncRetentionMs);
      if (outcome.ok) return c.json(outcome.page, 200);
      if (outcome.reason === "invalid_cursor") throw new ApiError("invalid_request", "cursor is not valid");
      // Too old to continue: hand over what rebuilding needs, and where to go on from.
      const body = {
        error: { code: "resync_required" as const, message: "the cursor is older than the sync retention period; rebuild your room list" },
        rooms: await listRooms(c.env.DB, userId),
        cursor: await latestSyncCursor(c.env.DB, userId),
      };
      return c.json(body as never, 410);
    },
  );
}
