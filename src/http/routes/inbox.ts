/**
 * The inbox socket: one per device across all of the user's rooms, owned by
 * the user's Inbox object. Same ticket pattern as room sockets: a single-use
 * ticket over authenticated HTTP, then the upgrade with the ticket.
 */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { ConnectTicket, UserId } from "../../protocol";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { configOf } from "../../kernel/config";
import { originAllowed } from "../origins";
import { bearer, errorResponses, json } from "./shared";

export function inboxStub(env: Env, userId: string) {
  return env.INBOXES.getByName(userId);
}

/** The upgrade: public (the ticket authenticates it), so it is registered before the auth middleware. */
export function inboxSocketRoute(app: OpenAPIHono<AppEnv>): void {
  app.get("/api/inbox/ws", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new ApiError("invalid_request", "expected a WebSocket upgrade");
    if (!originAllowed(c.req.header("Origin"), configOf(c.env).allowedOrigins)) throw new ApiError("forbidden", "origin not allowed");
    // The ticket lives in this user's inbox, which spends it; `user` only says which inbox to ask.
    const user = UserId.safeParse(c.req.query("user"));
    if (!user.success) throw new ApiError("invalid_request", "invalid user");
    return inboxStub(c.env, user.data).fetch(c.req.raw);
  });
}

export function inboxRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/inbox/connect-ticket",
      summary: "A single-use ticket, valid for 60 s, to open your inbox WebSocket (notices from all your rooms)",
      description:
        "Open `url` as a WebSocket. Frames (src/protocol/inbox.ts): `inbox_state { rooms }` first, then `inbox { kind, room }` for each change: activity (rooms up to LARGE_ROOM_MEMBERS members), read, joined, left, deleted, restored.",
      security: bearer,
      responses: { 200: json(ConnectTicket, "A ticket"), ...errorResponses },
    }),
    async (c) => {
      const userId = c.get("identity").userId;
      const { ticket, expiresTs } = await inboxStub(c.env, userId).connectTicket(userId, c.get("identity").expiresAt);
      const url = `/api/inbox/ws?user=${encodeURIComponent(userId)}&ticket=${encodeURIComponent(ticket)}`;
      return c.json({ ticket, url, expiresTs }, 200);
    },
  );
}
