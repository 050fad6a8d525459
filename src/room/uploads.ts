/**
 * The room's side of uploads and downloads: membership checks and the media
 * records (media.ts). The bytes never pass through the room; the Worker
 * streams them to R2 and reports back here. Every function is synchronous.
 */
import { type Attachment, type Result, type UploadStatus, fail, ok } from "../protocol";
import { mediaKey, newMediaId, newUploadId } from "../media/keys";
import type { RoomState } from "./state";
import { type MediaRow, toAttachment } from "./media";

/** R2 allows at most 10,000 parts per multipart upload. */
const MAX_PARTS = 10_000;

export interface BeginUpload {
  filename: string;
  /** Declared size; null for a single-shot body without Content-Length. */
  size: number | null;
  /** Parts of this size, for a resumable upload; null for single-shot. */
  partSize: number | null;
}

export interface UploadSlot {
  mediaId: string;
  key: string;
  uploadId: string | null;
  partCount: number | null;
  createdTs: number;
}

export interface FileType {
  contentType: string;
  filename: string;
  width?: number;
  height?: number;
}

export function beginUpload(state: RoomState, objectId: string, userId: string, req: BeginUpload, now: number): Result<UploadSlot> {
  const member = state.requireMember(userId);
  if (!member.ok) return member;
  let partCount: number | null = null;
  if (req.partSize !== null) {
    if (req.size === null) return fail("invalid_request", "a resumable upload needs its size");
    partCount = Math.max(1, Math.ceil(req.size / req.partSize));
    if (partCount > MAX_PARTS) return fail("invalid_request", `more than ${MAX_PARTS} parts`);
  }
  const mediaId = newMediaId(now);
  const uploadId = req.partSize !== null ? newUploadId(now) : null;
  const key = mediaKey(objectId, mediaId);
  state.media.begin({ mediaId, uploader: userId, key, filename: req.filename, size: req.size, uploadId, partSize: req.partSize, now });
  return ok({ mediaId, key, uploadId, partCount, createdTs: now });
}

export interface UploadTarget {
  mediaId: string;
  key: string;
  r2UploadId: string;
  size: number;
  partSize: number;
  partCount: number;
  /** Whether part 1 has been sniffed (its type is known). */
  typed: boolean;
  filename: string;
  createdTs: number;
}

/** The caller's unfinished resumable upload in this room. */
export function uploadTarget(state: RoomState, userId: string, uploadId: string): Result<UploadTarget> {
  const member = state.requireMember(userId);
  if (!member.ok) return member;
  const row = state.media.byUpload(uploadId);
  if (!row || row.uploader !== userId || row.state !== "uploading") return fail("not_found", "no such upload in progress");
  if (row.r2_upload_id === null || row.size === null || row.part_size === null) return fail("not_found", "upload is not ready");
  return ok({
    mediaId: row.media_id,
    key: row.r2_key,
    r2UploadId: row.r2_upload_id,
    size: row.size,
    partSize: row.part_size,
    partCount: Math.max(1, Math.ceil(row.size / row.part_size)),
    typed: row.content_type !== null,
    filename: row.filename,
    createdTs: row.created_ts,
  });
}

export function recordPart(state: RoomState, userId: string, uploadId: string, part: { partNumber: number; etag: string; size: number }, type: FileType | null): Result<{ ok: true }> {
  const target = uploadTarget(state, userId, uploadId);
  if (!target.ok) return target;
  if (type) state.media.setType(target.value.mediaId, type);
  state.media.recordPart(target.value.mediaId, part.partNumber, part.etag, part.size);
  return ok({ ok: true });
}

export function uploadStatus(state: RoomState, userId: string, uploadId: string, ttlMs: number): Result<UploadStatus> {
  const target = uploadTarget(state, userId, uploadId);
  if (!target.ok) return target;
  const t = target.value;
  return ok({
    uploadId,
    mediaId: t.mediaId,
    size: t.size,
    partSize: t.partSize,
    partCount: t.partCount,
    expiresTs: new Date(t.createdTs + ttlMs).toISOString(),
    parts: state.media.parts(t.mediaId).map((p) => ({ partNumber: p.part_number, etag: p.etag, size: p.size })),
  });
}

/** Checks that every part is stored; answers what R2's complete needs. */
export function prepareComplete(state: RoomState, userId: string, uploadId: string): Result<{ mediaId: string; key: string; r2UploadId: string; size: number; parts: Array<{ partNumber: number; etag: string }> }> {
  const target = uploadTarget(state, userId, uploadId);
  if (!target.ok) return target;
  const t = target.value;
  const parts = state.media.parts(t.mediaId);
  const missing: number[] = [];
  for (let n = 1; n <= t.partCount; n++) if (!parts.some((p) => p.part_number === n)) missing.push(n);
  if (missing.length > 0) return fail("invalid_request", `parts not uploaded yet: ${missing.slice(0, 20).join(", ")}`);
  if (!t.typed) return fail("invalid_request", "part 1 has not been checked");
  return ok({ mediaId: t.mediaId, key: t.key, r2UploadId: t.r2UploadId, size: t.size, parts: parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })) });
}

/** The bytes are in R2. A single-shot upload passes its type here; a resumable one recorded it with part 1. */
export function finishUpload(state: RoomState, userId: string, mediaId: string, info: { size: number; etag: string; type: FileType | null }): Result<Attachment> {
  const row = state.media.get(mediaId);
  if (!row || row.uploader !== userId || row.state !== "uploading") return fail("not_found", "no such upload in progress");
  if (info.type) state.media.setType(mediaId, info.type);
  state.media.finish(mediaId, { size: info.size, etag: info.etag });
  return ok(toAttachment(state.media.get(mediaId) as MediaRow));
}

/** Gives up an upload: marked for deletion; the alarm removes whatever reached R2. */
export function abandonUpload(state: RoomState, userId: string, mediaId: string): boolean {
  const row = state.media.get(mediaId);
  if (!row || row.uploader !== userId || row.state !== "uploading") return false;
  state.media.abandon(mediaId);
  return true;
}

export interface Downloadable {
  key: string;
  contentType: string;
  filename: string;
  size: number;
  etag: string;
}

/**
 * Members may read attached media. An upload not yet attached is readable by
 * its uploader only (it has not been shared yet).
 */
export function mediaForDownload(state: RoomState, userId: string, mediaId: string): Result<Downloadable> {
  const member = state.requireMember(userId);
  if (!member.ok) return member;
  const row = state.media.get(mediaId);
  const visible = row && (row.state === "attached" || (row.state === "pending" && row.uploader === userId));
  if (!row || !visible || row.etag === null) return fail("not_found", "no such media in this room");
  return ok({ key: row.r2_key, contentType: row.content_type ?? "application/octet-stream", filename: row.filename, size: row.size ?? 0, etag: row.etag });
}

/** R2 opened the multipart upload: its id is kept for the parts and the completion. */
export function setMultipartUpload(state: RoomState, userId: string, uploadId: string, r2UploadId: string): Result<{ ok: true }> {
  const row = state.media.byUpload(uploadId);
  if (!row || row.uploader !== userId || row.state !== "uploading") return fail("not_found", "no such upload");
  state.media.setR2Upload(row.media_id, r2UploadId);
  return ok({ ok: true });
}
