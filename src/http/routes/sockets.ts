/**
 * The WebSocket upgrades: a room's socket and the user's inbox socket. Public
 * by route (registered on the public app, ahead of the authenticated
 * prefixes): browsers cannot set headers on an upgrade and tokens do not
 * belong in URLs, so each socket is authenticated by a single-use connect
 * ticket, bought over authenticated HTTP, which the object behind the socket
 * spends before answering 101. The Origin is checked first so that other sites
 * cannot open sockets with a user's ticket.
 *
 * Nothing reaches an object without a ticket of the right shape: a guessed
 * room or user name must not bring an object into being. And the request
 * handed on carries no `x-partykit-*` header of the client's: partyserver
 * reads those (props, the room's name) as instructions from the Worker.
 */
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { RoomId, UserId } from "../../protocol";
import { configOf } from "../../kernel/config";
import { isTicketShaped } from "../../kernel/tickets";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { originAllowed } from "../origins";
import { inboxStub, roomStub } from "./shared";

/** Throws unless the request is a WebSocket upgrade from an allowed origin. */
function checkUpgrade(c: Context<AppEnv>): void {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError("invalid_request", "expected a WebSocket upgrade");
  if (!originAllowed(c.req.header("Origin"), configOf(c.env).allowedOrigins)) throw new ApiError("forbidden", "origin not allowed");
}

/** Throws unless the query carries something shaped like a ticket (the object behind decides whether it is one). */
function checkTicketShape(c: Context<AppEnv>): void {
  if (!isTicketShaped(c.req.query("ticket"))) throw new ApiError("unauthorized", "connect ticket is missing, expired or already used");
}

/** The upgrade as the object should see it: the client's `x-partykit-*` headers dropped. */
function forwarded(request: Request): Request {
  const headers = new Headers(request.headers);
  for (const name of [...headers.keys()]) if (name.toLowerCase().startsWith("x-partykit-")) headers.delete(name);
  return new Request(request, { headers });
}

export function socketRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get("/api/rooms/:roomId/ws", async (c) => {
    checkUpgrade(c);
    const roomId = RoomId.safeParse(c.req.param("roomId"));
    if (!roomId.success) throw new ApiError("invalid_request", "invalid room id");
    checkTicketShape(c);
    return roomStub(c.env, roomId.data).fetch(forwarded(c.req.raw));
  });

  app.get("/api/inbox/ws", async (c) => {
    checkUpgrade(c);
    // The ticket lives in this user's inbox, which spends it; `user` only says which inbox to ask.
    const user = UserId.safeParse(c.req.query("user"));
    if (!user.success) throw new ApiError("invalid_request", "invalid user");
    checkTicketShape(c);
    return inboxStub(c.env, user.data).fetch(forwarded(c.req.raw));
  });
}
