/**
 * The ticket for the inbox socket: one socket per device across all of the
 * user's rooms, owned by the user's Inbox object. Same pattern as room
 * sockets: a single-use ticket over authenticated HTTP, then the upgrade with
 * the ticket (src/http/routes/sockets.ts).
 */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { ConnectTicket } from "../../protocol";
import type { AuthedEnv } from "../context";
import { bearer, errorResponses, inboxStub, json } from "./shared";

export function inboxRoutes(app: OpenAPIHono<AuthedEnv>): void {
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
