/** Rooms and membership: create, join, leave, members, the caller's room list, direct rooms. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import {
  ActiveUsers,
  CreateRoomBody,
  DeleteRoomResult,
  DirectRoom,
  JoinResult,
  LeaveResult,
  MemberList,
  ModerationResult,
  RestoreRoomResult,
  RoleBody,
  RoomCreated,
  RoomList,
  UserId,
} from "../../protocol";
import { listRooms } from "../../db/room-index";
import { enrichRooms } from "../room-list";
import { readPrivacy } from "../../db/settings";
import { directRoomId } from "../../kernel/direct";
import type { AuthedEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { RoomParams, bearer, errorResponses, json, roomStub } from "./shared";

export function roomRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms",
      summary: "Create a room; the caller becomes its owner",
      security: bearer,
      request: { body: { content: { "application/json": { schema: CreateRoomBody } }, required: true } },
      responses: { 201: json(RoomCreated, "Room created"), 409: json(errorResponses[400].content["application/json"].schema, "room_exists"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("json");
      const userId = c.get("identity").userId;
      const result = unwrap(await roomStub(c.env, roomId).create(userId, await readPrivacy(c.env.DB, userId)));
      return c.json(result, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms",
      summary: "The caller's rooms, most recent activity first, each with unreadCount and lastMessage",
      description:
        "Which rooms comes from the D1 index (a join or leave may take a second to show); unreadCount, lastMessage and lastActivityTs come from each room itself, so they are current. unreadCount counts messages after your read position that are not deleted and not yours, capped at 999.",
      security: bearer,
      responses: { 200: json(RoomList, "Rooms"), ...errorResponses },
    }),
    async (c) => {
      const userId = c.get("identity").userId;
      return c.json({ rooms: await enrichRooms(c.env, userId, await listRooms(c.env.DB, userId)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/join",
      summary: "Join a room; `joined` is false if the caller was already a member",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(JoinResult, "Joined"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      return c.json(unwrap(await roomStub(c.env, roomId).join(userId, await readPrivacy(c.env.DB, userId))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/leave",
      summary: "Leave a room; `left` is false if the caller was not a member",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(LeaveResult, "Left"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).leave(c.get("identity").userId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/rooms/{roomId}",
      summary: "Delete the conversation for every member (direct: either side; group: owners and admins)",
      description:
        "Live sockets receive a room_deleted event and close with 4004; offline members find room_deleted in their sync log. Restorable until `restorableUntil`, then purged. Afterwards the room answers 410 room_deleted.",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(DeleteRoomResult, "Deleted"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).deleteRoom(c.get("identity"))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/restore",
      summary: "Undo a room deletion inside the undo window (the deleter, owners, admins)",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(RestoreRoomResult, "Restored"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).restoreRoom(c.get("identity"))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/active-users",
      summary: "Member ids in join order",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(ActiveUsers, "Members"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).activeUsers(c.get("identity").userId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/members",
      summary: "Members with their roles and join times, in join order",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(MemberList, "Members"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).members(c.get("identity").userId)), 200);
    },
  );

  const MemberParams = z.object({ roomId: RoomParams.shape.roomId, userId: UserId });
  for (const action of ["kick", "ban", "unban"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/rooms/{roomId}/members/{userId}/${action}`,
        summary:
          action === "kick"
            ? "Remove a member (owners; admins for plain members): their sockets close at once; they may join again"
            : action === "ban"
              ? "Remove a member and keep them out until unbanned"
              : "Lift a ban",
        security: bearer,
        request: { params: MemberParams },
        responses: { 200: json(ModerationResult, "Done"), ...errorResponses },
      }),
      async (c) => {
        const { roomId, userId } = c.req.valid("param");
        return c.json(unwrap(await roomStub(c.env, roomId).moderate(c.get("identity"), userId, action)), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/rooms/{roomId}/members/{userId}/role",
      summary: "Make a member an admin, or a plain member again (owners only)",
      security: bearer,
      request: { params: MemberParams, body: { content: { "application/json": { schema: RoleBody } }, required: true } },
      responses: { 200: json(ModerationResult, "Done"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, userId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).setRole(c.get("identity"), userId, c.req.valid("json").role)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/direct/{userId}",
      summary: "Open (or create) the 1:1 room of the caller and another user",
      security: bearer,
      request: { params: z.object({ userId: UserId }) },
      responses: { 200: json(DirectRoom, "The direct room"), ...errorResponses },
    }),
    async (c) => {
      const me = c.get("identity").userId;
      const { userId: other } = c.req.valid("param");
      if (other === me) throw new ApiError("invalid_request", "a direct room needs another user");
      const roomId = await directRoomId(me, other);
      const [mine, theirs] = await Promise.all([readPrivacy(c.env.DB, me), readPrivacy(c.env.DB, other)]);
      return c.json(unwrap(await roomStub(c.env, roomId).openDirect(me, other, { [me]: mine, [other]: theirs })), 200);
    },
  );
}
