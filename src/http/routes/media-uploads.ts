/**
 * Uploads into one room: single-shot and resumable (multipart). Bytes stream
 * from the request straight into R2; the room object checks membership and
 * records what was stored; a per-user object keeps the hourly upload quota.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { Attachment, CreateUploadBody, UploadCreated, UploadId, UploadStatus, UploadedPart } from "../../protocol";
import { type MediaConfig, configOf } from "../../kernel/config";
import { SNIFF_BYTES, type Sniffed, safeFilename, sniff } from "../../media/sniff";
import { TooLargeError, peek, putUnknownLength, withLength } from "../../media/streams";
import type { AuthedEnv } from "../context";
import { ApiError, unwrap } from "../errors";
import { RoomParams, bearer, binary, errorResponses, json, roomStub } from "./shared";

const UploadParams = RoomParams.extend({ uploadId: UploadId });
const PartParams = UploadParams.extend({ partNumber: z.coerce.number().int().min(1).max(10_000) });

const errorJson = errorResponses[400].content;
const mediaErrors = {
  ...errorResponses,
  413: { description: "content_too_large", content: errorJson },
  415: { description: "unsupported_media_type", content: errorJson },
} as const;

/** What the room records of a sniffed file (its type, a name with the right extension, image dimensions). */
type FileType = { contentType: string; filename: string; width?: number; height?: number };

/**
 * Requests whose bodies are files: exempt from the small JSON body limit (src/http/app.ts),
 * limited by MEDIA_MAX_BYTES in their routes instead.
 */
export function isMediaUpload(method: string, path: string): boolean {
  return (method === "POST" && /^\/api\/rooms\/[^/]+\/media$/.test(path)) || (method === "PUT" && /^\/api\/rooms\/[^/]+\/media\/uploads\/[^/]+\/parts\/[^/]+$/.test(path));
}

function declaredLength(header: string | undefined): number | null {
  if (header === undefined) return null;
  if (!/^\d{1,16}$/.test(header.trim())) throw new ApiError("invalid_request", "invalid Content-Length");
  return Number(header);
}

function decodeFilename(header: string | undefined): string {
  if (!header) return "file";
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

async function chargeQuota(env: Env, userId: string, bytes: number, config: MediaConfig): Promise<void> {
  const decision = await env.USER_LIMITS.getByName(userId).chargeUpload(bytes, config.quotaBytesPerHour);
  if (!decision.ok) {
    throw new ApiError("rate_limited", `upload quota reached: ${config.quotaBytesPerHour} bytes per hour`, decision.retryAfter);
  }
}

function fileTypeOf(type: Sniffed, filename: string): FileType {
  const { width, height } = type;
  return { contentType: type.contentType, filename: safeFilename(filename, type.ext), ...(width && height ? { width, height } : {}) };
}

const tooLarge = (config: MediaConfig) => new ApiError("content_too_large", `files are limited to ${config.maxBytes} bytes`);
const unsupported = () => new ApiError("unsupported_media_type", "this kind of file is not accepted (decided from its content, not its name)");

export function uploadRoutes(app: OpenAPIHono<AuthedEnv>): void {
  // ---- single-shot upload ---------------------------------------------------------

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/media",
      summary: "Upload a file in one request (body: the raw bytes); attach it with sendMessage within MEDIA_ORPHAN_TTL_MS",
      description:
        "`X-Filename` (percent-encoded UTF-8) names the file. The type is decided from the first bytes; the declared `Content-Type` only matters for plain text. A declared `Content-Length` over MEDIA_MAX_BYTES is refused before the body is read; a body without one is cut off once it passes the limit.",
      security: bearer,
      request: {
        params: RoomParams,
        headers: z.object({ "x-filename": z.string().max(1024).optional() }),
        body: binary("The file's bytes"),
      },
      responses: { 201: json(Attachment, "Stored; not yet attached"), ...mediaErrors },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      const config = configOf(c.env).media;
      const declared = declaredLength(c.req.header("content-length"));
      if (declared !== null && declared > config.maxBytes) throw tooLarge(config);
      const body = c.req.raw.body;
      if (!body || declared === 0) throw new ApiError("invalid_request", "the body is empty");
      const filename = decodeFilename(c.req.header("x-filename"));
      const room = roomStub(c.env, roomId);
      const slot = unwrap(await room.beginUpload(userId, { filename, size: declared, partSize: null }));
      let charged = 0;
      try {
        if (declared !== null) {
          await chargeQuota(c.env, userId, declared, config);
          charged = declared;
        }
        const { head, stream } = await peek(body, SNIFF_BYTES);
        const type = await sniff(head, c.req.header("content-type"), config.allowedTypes);
        if (!type) {
          await stream.cancel().catch(() => undefined);
          throw unsupported();
        }
        const httpMetadata = { contentType: type.contentType };
        let size: number;
        let etag: string;
        if (declared !== null) {
          const object = await c.env.MEDIA.put(slot.key, withLength(stream, declared), { httpMetadata });
          size = declared;
          etag = object.httpEtag;
        } else {
          ({ size, etag } = await putUnknownLength(c.env.MEDIA, slot.key, stream, { max: config.maxBytes, partBytes: config.partBytes, httpMetadata }));
          await chargeQuota(c.env, userId, size, config);
          charged = size;
        }
        return c.json(unwrap(await room.finishUpload(userId, slot.mediaId, { size, etag, type: fileTypeOf(type, filename) })), 201);
      } catch (error) {
        await room.abandonUpload(userId, slot.mediaId).catch(() => undefined);
        if (charged > 0) await c.env.USER_LIMITS.getByName(userId).refundUpload(charged).catch(() => undefined);
        if (error instanceof TooLargeError) throw tooLarge(config);
        throw error;
      }
    },
  );

  // ---- resumable (multipart) upload -------------------------------------------------

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/media/uploads",
      summary: "Start a resumable upload: PUT each part, then complete. Parts already stored survive failures",
      security: bearer,
      request: { params: RoomParams, body: { content: { "application/json": { schema: CreateUploadBody } }, required: true } },
      responses: { 201: json(UploadCreated, "Upload started"), ...mediaErrors },
    }),
    async (c) => {
      const { roomId } = c.req.valid("param");
      const { filename, size } = c.req.valid("json");
      const userId = c.get("identity").userId;
      const config = configOf(c.env).media;
      if (size > config.maxBytes) throw tooLarge(config);
      const room = roomStub(c.env, roomId);
      const slot = unwrap(await room.beginUpload(userId, { filename, size, partSize: config.partBytes }));
      try {
        await chargeQuota(c.env, userId, size, config);
        const upload = await c.env.MEDIA.createMultipartUpload(slot.key);
        unwrap(await room.setMultipartUpload(userId, slot.uploadId!, upload.uploadId));
      } catch (error) {
        await room.abandonUpload(userId, slot.mediaId).catch(() => undefined);
        throw error;
      }
      return c.json(
        {
          uploadId: slot.uploadId!,
          mediaId: slot.mediaId,
          partSize: config.partBytes,
          partCount: slot.partCount!,
          expiresTs: new Date(slot.createdTs + config.orphanTtlMs).toISOString(),
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/rooms/{roomId}/media/uploads/{uploadId}",
      summary: "An upload in progress and the parts already stored (to resume after a failure)",
      security: bearer,
      request: { params: UploadParams },
      responses: { 200: json(UploadStatus, "The upload"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, uploadId } = c.req.valid("param");
      return c.json(unwrap(await roomStub(c.env, roomId).uploadStatus(c.get("identity").userId, uploadId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/rooms/{roomId}/media/uploads/{uploadId}/parts/{partNumber}",
      summary: "Store one part (body: its raw bytes). Every part but the last is exactly partSize bytes; repeating a part replaces it",
      description: "`Content-Length` is required and must be the part's size. Part 1 decides the file's type: an unaccepted type cancels the whole upload.",
      security: bearer,
      request: { params: PartParams, body: binary("The part's bytes") },
      responses: { 200: json(UploadedPart, "Part stored"), ...mediaErrors },
    }),
    async (c) => {
      const { roomId, uploadId, partNumber } = c.req.valid("param");
      const userId = c.get("identity").userId;
      const config = configOf(c.env).media;
      const room = roomStub(c.env, roomId);
      const target = unwrap(await room.uploadTarget(userId, uploadId));
      if (partNumber > target.partCount) throw new ApiError("invalid_request", `this upload has ${target.partCount} parts`);
      const expected = partNumber < target.partCount ? target.partSize : target.size - (target.partCount - 1) * target.partSize;
      const declared = declaredLength(c.req.header("content-length"));
      if (declared === null) throw new ApiError("invalid_request", "Content-Length is required");
      if (declared > expected && declared > config.maxBytes) throw new ApiError("content_too_large", `part ${partNumber} is ${expected} bytes`);
      if (declared !== expected) throw new ApiError("invalid_request", `part ${partNumber} must be ${expected} bytes`);
      const body = c.req.raw.body;
      if (!body) throw new ApiError("invalid_request", "the body is empty");

      let stream: ReadableStream<Uint8Array> = body;
      let fileType: FileType | null = null;
      if (partNumber === 1) {
        const peeked = await peek(body, SNIFF_BYTES);
        const type = await sniff(peeked.head, undefined, config.allowedTypes);
        if (!type) {
          await peeked.stream.cancel().catch(() => undefined);
          await room.abandonUpload(userId, target.mediaId);
          throw unsupported();
        }
        stream = peeked.stream;
        fileType = fileTypeOf(type, target.filename);
      }
      const upload = c.env.MEDIA.resumeMultipartUpload(target.key, target.r2UploadId);
      const part = await upload.uploadPart(partNumber, withLength(stream, expected));
      unwrap(await room.recordPart(userId, uploadId, { partNumber, etag: part.etag, size: expected }, fileType));
      return c.json({ partNumber, etag: part.etag, size: expected }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/rooms/{roomId}/media/uploads/{uploadId}/complete",
      summary: "Finish a resumable upload once every part is stored; answers the attachment",
      security: bearer,
      request: { params: UploadParams },
      responses: { 200: json(Attachment, "Stored; not yet attached"), ...mediaErrors },
    }),
    async (c) => {
      const { roomId, uploadId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      const room = roomStub(c.env, roomId);
      const ready = unwrap(await room.prepareComplete(userId, uploadId));
      const object = await c.env.MEDIA.resumeMultipartUpload(ready.key, ready.r2UploadId).complete(ready.parts);
      return c.json(unwrap(await room.finishUpload(userId, ready.mediaId, { size: object.size, etag: object.httpEtag, type: null })), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/rooms/{roomId}/media/uploads/{uploadId}",
      summary: "Cancel a resumable upload; its stored parts are deleted",
      security: bearer,
      request: { params: UploadParams },
      responses: { 200: json(z.object({ cancelled: z.boolean() }), "Cancelled"), ...errorResponses },
    }),
    async (c) => {
      const { roomId, uploadId } = c.req.valid("param");
      const userId = c.get("identity").userId;
      const room = roomStub(c.env, roomId);
      const target = unwrap(await room.uploadTarget(userId, uploadId));
      return c.json({ cancelled: await room.abandonUpload(userId, target.mediaId) }, 200);
    },
  );
}
