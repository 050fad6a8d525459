/** Presence, typing, read receipts and the privacy settings behind them. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { PresenceList, ReadBody, ReadResult, ReceiptList, Settings, SettingsBody } from "../../protocol";
import { roomsOfUser } from "../../db/room-index";
import { readPrivacy, writePrivacy } from "../../db/settings";
import type { AuthedEnv } from "../context";
import { unwrap } from "../errors";
import { RoomParams, bearer, errorResponses, json, roomStub } from "./shared";

export function presenceRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/presence",
      summary: "Each member's presence: online (any live device, plus a grace period), devices, lastSeen",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(PresenceList, "Presence"), ...errorResponses },
    }),
    async (c) => c.json(unwrap(await roomStub(c.env, c.req.valid("param").roomId).presenceList(c.get("identity").userId)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/typing",
      summary: "The caller is typing: members see it for 10 s unless refreshed (never stored)",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(z.object({ roomId: z.string() }), "Announced"), ...errorResponses },
    }),
    async (c) => c.json(unwrap(await roomStub(c.env, c.req.valid("param").roomId).typing(c.get("identity").userId)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/read",
      summary: "Read up to and including seq. Only moves forward; a lower seq changes nothing",
      security: bearer,
      request: { params: RoomParams, body: { content: { "application/json": { schema: ReadBody } }, required: true } },
      responses: { 200: json(ReadResult, "The caller's read position"), ...errorResponses },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      return c.json(unwrap(await roomStub(c.env, roomId).markRead(userId, c.req.valid("json").seq, await readPrivacy(c.env.DB, userId))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/receipts",
      summary: "Every member's read position (private ones excluded, except your own)",
      security: bearer,
      request: { params: RoomParams },
      responses: { 200: json(ReceiptList, "Receipts"), ...errorResponses },
    }),
    async (c) => c.json(unwrap(await roomStub(c.env, c.req.valid("param").roomId).receiptList(c.get("identity").userId)), 200),
  );

  const toSettings = (p: { presenceHidden: boolean; receiptsPrivate: boolean }) => ({
    presenceVisibility: p.presenceHidden ? ("nobody" as const) : ("everyone" as const),
    readReceiptVisibility: p.receiptsPrivate ? ("nobody" as const) : ("everyone" as const),
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/me/settings",
      summary: "The caller's privacy settings",
      security: bearer,
      responses: { 200: json(Settings, "Settings"), ...errorResponses },
    }),
    async (c) => c.json(toSettings(await readPrivacy(c.env.DB, c.get("identity").userId)), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/me/settings",
      summary: "Change privacy settings; they apply to every room of the caller at once",
      security: bearer,
      request: { body: { content: { "application/json": { schema: SettingsBody } }, required: true } },
      responses: { 200: json(Settings, "Settings"), ...errorResponses },
    }),
    async (c) => {
      const userId = c.get("identity").userId;
      const body = c.req.valid("json");
      const current = await readPrivacy(c.env.DB, userId);
      const next = {
        presenceHidden: body.presenceVisibility === undefined ? current.presenceHidden : body.presenceVisibility === "nobody",
        receiptsPrivate: body.readReceiptVisibility === undefined ? current.receiptsPrivate : body.readReceiptVisibility === "nobody",
      };
      await writePrivacy(c.env.DB, userId, next);
      await Promise.all((await roomsOfUser(c.env.DB, userId)).map((roomId) => roomStub(c.env, roomId).applyPrivacy(userId, next)));
      return c.json(toSettings(next), 200);
    },
  );
}
