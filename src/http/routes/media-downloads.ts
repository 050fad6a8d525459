/**
 * Downloads of one room's media, and the signed URLs that let a page show a
 * file without a bearer header (an <img src>, a <video>, a link). The download
 * route is public by route: it is registered on the public app, ahead of the
 * authenticated prefixes, and asks for a bearer token itself unless the
 * request carries a signature (src/media/signed-url.ts) to check instead.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { MediaId, MediaUrl } from "../../protocol";
import { configOf } from "../../kernel/config";
import { serveMedia } from "../../media/download";
import { signMediaUrl, verifyMediaUrl } from "../../media/signed-url";
import { authenticate } from "../auth";
import type { AppEnv, AuthedEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { RoomParams, bearer, binary, errorResponses, json, roomStub } from "./shared";

const MediaParams = RoomParams.extend({ mediaId: MediaId });

/** A signed request is checked by its signature in the handler; any other needs a bearer token, before its input is looked at. */
const bearerUnlessSigned: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.query("sig") === undefined) c.set("identity", await authenticate(c.req.header("Authorization"), c.env));
  await next();
};

/** GET .../media/{mediaId}/url (authenticated sub-app). */
export function mediaUrlRoute(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/media/{mediaId}/url",
      summary: "A signed URL for the file, usable without headers (e.g. as an <img> src) until expiresTs",
      security: bearer,
      request: { params: MediaParams },
      responses: { 200: json(MediaUrl, "A URL on the API origin"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, mediaId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      unwrap(await roomStub(c.env, roomId).mediaForDownload(userId, mediaId));
      return c.json(await signMediaUrl(c.env, roomId, mediaId, userId, configOf(c.env).media.urlTtlS), 200);
    },
  );
}

/** GET (and HEAD) .../media/{mediaId} (public app: a bearer token or a signed URL). */
export function downloadRoute(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/media/{mediaId}",
      summary: "Download a file (members only). Supports Range and If-None-Match",
      description:
        "Authenticated by a bearer token or by the query of a signed URL (`u`, `exp`, `sig`). Images, audio and video are served inline, everything else as an attachment; always with `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy. A pending (not yet attached) upload is readable by its uploader only.",
      security: [...bearer, {}],
      middleware: [bearerUnlessSigned] as const,
      request: {
        params: MediaParams,
        query: z.object({ u: z.string().max(128).optional(), exp: z.string().max(16).optional(), sig: z.string().max(128).optional() }),
      },
      responses: {
        200: binary("The file"),
        206: binary("The requested range"),
        304: { description: "Not modified (If-None-Match)" },
        416: { description: "Range not satisfiable" },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { roomId, mediaId } = c.req.valid("param");
      const query = c.req.valid("query");
      let userId = c.get("identity")?.userId;
      if (query.sig !== undefined) {
        userId = (await verifyMediaUrl(c.env, roomId, mediaId, query)) ?? undefined;
        if (!userId) throw new ApiError("unauthorized", "the media URL is invalid or has expired");
      }
      if (!userId) throw new ApiError("unauthorized", "missing bearer token");
      const media = unwrap(await roomStub(c.env, roomId).mediaForDownload(userId, mediaId));
      return serveMedia(c.env.MEDIA, media, c.req.raw) as never;
    },
  );
}
