/**
 * The deployment admin API: legal holds, the audit log, erasure. Admins are
 * users whose token carries the admin claim (AUTH_ADMIN_CLAIM, default `admin`).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { RoomId, UserId } from "../../protocol";
import { listHolds, placeHold, readAudit, releaseHold, stillHeld } from "../../db/compliance";
import { roomsEverJoined } from "../../db/room-index";
import type { AuthedEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { bearer, errorResponses, json, roomStub } from "./shared";
import { log } from "../../ops/log";

const Hold = z.object({
  holdId: z.string(),
  kind: z.enum(["room", "user"]),
  target: z.string(),
  reason: z.string().nullable(),
  placedBy: z.string(),
  placedTs: z.string(),
  releasedBy: z.string().nullable(),
  releasedTs: z.string().nullable(),
});
const PlaceHoldBody = z.union([
  z.object({ roomId: RoomId, reason: z.string().max(500).optional() }),
  z.object({ userId: UserId, reason: z.string().max(500).optional() }),
]);
const AuditEntry = z.object({
  seq: z.number(),
  id: z.string(),
  ts: z.string(),
  actor: z.string(),
  action: z.string(),
  roomId: z.string().nullable(),
  target: z.string().nullable(),
  detail: z.string().nullable(),
});

const ErasureProgress = z.object({
  userId: UserId,
  state: z.enum(["running", "done"]),
  step: z.enum(["rooms", "account", "inbox", "done"]),
  roomsTotal: z.number(),
  roomsDone: z.number(),
  messages: z.number(),
  startedTs: z.string(),
  finishedTs: z.string().nullable(),
});
/** The erasure's first answer: `rooms` and `messages` as before (so far, while it runs), and its progress. */
const ErasureAnswer = ErasureProgress.extend({ rooms: z.number() });

export function adminRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/admin/holds",
      summary: "Place a legal hold on a room or a user: their content is never purged while it holds",
      security: bearer,
      request: { body: { content: { "application/json": { schema: PlaceHoldBody } }, required: true } },
      responses: { 201: json(Hold, "The hold"), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const admin = c.get("identity").userId;
      const reason = body.reason ?? null;
      if ("roomId" in body) {
        // The room is the source of truth for its own purges: tell it first.
        unwrap(await roomStub(c.env, body.roomId).setHold(admin, true));
      }
      const hold = "roomId" in body ? await placeHold(c.env.DB, "room", body.roomId, reason, admin) : await placeHold(c.env.DB, "user", body.userId, reason, admin);
      log("info", "hold", { req: c.get("requestId"), holdId: hold.holdId, kind: hold.kind, target: hold.target, held: true, by: admin });
      return c.json(hold, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/holds",
      summary: "Legal holds, newest first (active only unless all=true)",
      security: bearer,
      request: { query: z.object({ all: z.enum(["true", "false"]).optional() }) },
      responses: { 200: json(z.object({ holds: z.array(Hold) }), "Holds"), ...errorResponses },
    }),
    async (c) => c.json({ holds: await listHolds(c.env.DB, c.req.valid("query").all !== "true") }, 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/admin/holds/{holdId}",
      summary: "Release a hold; held content is then purged on schedule",
      security: bearer,
      request: { params: z.object({ holdId: z.string().max(64) }) },
      responses: { 200: json(Hold, "The released hold"), ...errorResponses },
    }),
    async (c) => {
      const admin = c.get("identity").userId;
      const hold = await releaseHold(c.env.DB, c.req.valid("param").holdId, admin);
      if (!hold) throw new ApiError("not_found", "no such hold");
      log("info", "hold", { req: c.get("requestId"), holdId: hold.holdId, kind: hold.kind, target: hold.target, held: false, by: admin });
      if (hold.kind === "room" && !(await stillHeld(c.env.DB, "room", hold.target))) {
        unwrap(await roomStub(c.env, hold.target).setHold(admin, false));
      }
      if (hold.kind === "user") {
        // Rooms re-check user holds on their own schedule; nudge the user's current rooms now.
        for (const roomId of await roomsEverJoined(c.env.DB, hold.target)) await roomStub(c.env, roomId).recheckHolds();
      }
      return c.json(hold, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/audit",
      summary: "The audit log, oldest first: deletions, edits, restores, purges, holds, erasures",
      security: bearer,
      request: {
        query: z.object({
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          roomId: RoomId.optional(),
        }),
      },
      responses: { 200: json(z.object({ entries: z.array(AuditEntry), nextAfter: z.number().nullable() }), "Entries"), ...errorResponses },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await readAudit(c.env.DB, { after: q.after ?? 0, limit: q.limit ?? 100, ...(q.roomId ? { roomId: q.roomId } : {}) }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/admin/users/{userId}/erase",
      summary: "Erase a user: tombstone their messages in every room they joined, remove them, drop their account data",
      description:
        "Content protected by a legal hold on the room or the user is kept out of reach until the hold is released. " +
        "The erasure runs in bounded steps: a light user is erased before the answer (state done); " +
        "otherwise it continues in the background and GET .../erasure reports its progress. A second POST continues a running erasure.",
      security: bearer,
      request: { params: z.object({ userId: UserId }) },
      responses: { 200: json(ErasureAnswer, "Erased, or erasing"), ...errorResponses },
    }),
    async (c) => {
      const admin = c.get("identity").userId;
      const { userId } = c.req.valid("param");
      const progress = await c.env.INBOXES.getByName(userId).startErasure(admin, userId);
      const rooms = progress.roomsTotal;
      log("info", "deletion", { req: c.get("requestId"), kind: "user_erased", target: userId, rooms, messages: progress.messages, state: progress.state, by: admin });
      return c.json({ ...progress, rooms, messages: progress.messages }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/users/{userId}/erasure",
      summary: "The progress of a user's erasure",
      security: bearer,
      request: { params: z.object({ userId: UserId }) },
      responses: { 200: json(ErasureProgress, "Its progress"), ...errorResponses },
    }),
    async (c) => {
      const { userId } = c.req.valid("param");
      const progress = await c.env.INBOXES.getByName(userId).erasureProgress();
      if (!progress) throw new ApiError("not_found", `no erasure of ${userId} was asked for`);
      return c.json(progress, 200);
    },
  );
}
