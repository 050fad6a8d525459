/** Messages of one room: send, history, edits and deletes, and the connect ticket that opens its WebSocket. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { ConnectTicket, EditMessageBody, HistoryPage, HistoryQuery, Message, RoomId, SendMessageBody } from "../../protocol";
import { readPrivacy } from "../../db/settings";
import type { AuthedEnv } from "../context";
import { unwrap } from "../errors";
import { RoomParams, bearer, errorResponses, json, roomStub } from "./shared";

export function messageRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/messages",
      summary: "Send a message. Answers once it is stored; a repeated clientId returns the original",
      security: bearer,
      request: { params: RoomParams, body: { content: { "application/json": { schema: SendMessageBody } }, required: true } },
      responses: {
        201: json(Message, "Stored"),
        413: json(errorResponses[400].content["application/json"].schema, "content_too_large"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const message = unwrap(await roomStub(c.env, roomId).sendMessage(c.get("identity").userId, c.req.valid("json")));
      return c.json(message, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/messages",
      summary: "A page of history, chronological; nextCursor fetches the next older page",
      security: bearer,
      request: { params: RoomParams, query: HistoryQuery },
      responses: { 200: json(HistoryPage, "A page"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const query = c.req.valid("query");
      const page = unwrap(await roomStub(c.env, roomId).history(c.get("identity").userId, query));
      return c.json(page, 200);
    },
  );

  const MessageParams = z.object({ roomId: RoomId, messageId: z.string().min(1).max(64) });

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/rooms/{roomId}/messages/{messageId}",
      summary: "Edit your own message; it keeps its id and seq and gains editedTs",
      security: bearer,
      request: { params: MessageParams, body: { content: { "application/json": { schema: EditMessageBody } }, required: true } },
      responses: { 200: json(Message, "The edited message"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, messageId } = c.req.valid("param");
      const { content } = c.req.valid("json");
      return c.json(unwrap(await roomStub(c.env, roomId).editMessage(c.get("identity"), messageId, content)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/rooms/{roomId}/messages/{messageId}",
      summary: "Delete a message (the sender; owners and admins any): it becomes a tombstone for everyone",
      security: bearer,
      request: { params: MessageParams },
      responses: { 200: json(Message, "The tombstone"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, messageId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).deleteMessage(c.get("identity"), messageId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/connect-ticket",
      summary: "A single-use ticket, valid for 60 s, to open the room's WebSocket",
      description:
        "Open `url` (relative to the API origin, ws: or wss:) as a WebSocket. Browsers cannot set headers on upgrades, and tokens do not belong in URLs, so the socket is authenticated by this ticket.",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(ConnectTicket, "A ticket"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const identity = c.get("identity");
      // Each new socket brings the user's current privacy settings: a setting changed just
      // after joining (before the index knew of the room) still reaches this room.
      const privacy = await readPrivacy(c.env.DB, identity.userId);
      const { ticket, expiresTs } = unwrap(await roomStub(c.env, roomId).connectTicket(identity.userId, identity.expiresAt, privacy));
      const url = `/api/rooms/${encodeURIComponent(roomId)}/ws?ticket=${encodeURIComponent(ticket)}`;
      return c.json({ ticket, url, expiresTs }, 200);
    },
  );
}
