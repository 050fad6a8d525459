/** Attachments and uploads: what a message carries about a file, and the upload API's bodies. */
import { z } from "zod";
import { Timestamp } from "./ids";

/**
 * Media attachments: files stored in R2, referred to by messages. Ids are made
 * by the server (a prefix and random base-36), never by clients, so they are
 * safe in URLs and object keys.
 */
export const MediaId = z.string().regex(/^med_[a-z0-9]{16,40}$/, "not a media id");
export type MediaId = z.infer<typeof MediaId>;

export const UploadId = z.string().regex(/^upl_[a-z0-9]{16,40}$/, "not an upload id");
export type UploadId = z.infer<typeof UploadId>;

/** At most this many attachments on one message. */
export const MAX_ATTACHMENTS = 10;

/** A file attached to a message (or uploaded and waiting to be attached). */
export const Attachment = z.object({
  mediaId: MediaId,
  filename: z.string(),
  /** Decided by the server from the file's first bytes, not from the name or the declared type. */
  contentType: z.string(),
  size: z.number().int().min(0),
  /** Pixel dimensions, for images whose header the server could read. */
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** Start a resumable (multipart) upload. `contentType` is a hint only: the bytes decide. */
export const CreateUploadBody = z.object({
  filename: z.string().min(1).max(255),
  contentType: z.string().max(255).optional(),
  size: z.number().int().min(1),
});
export type CreateUploadBody = z.infer<typeof CreateUploadBody>;

export const UploadCreated = z.object({
  uploadId: UploadId,
  mediaId: MediaId,
  /** Every part but the last is exactly this many bytes; the last is the rest. */
  partSize: z.number().int().positive(),
  partCount: z.number().int().positive(),
  /** An upload not completed (and attached) by then is deleted. */
  expiresTs: Timestamp,
});
export type UploadCreated = z.infer<typeof UploadCreated>;

export const UploadedPart = z.object({
  partNumber: z.number().int().min(1),
  etag: z.string(),
  size: z.number().int().min(0),
});
export type UploadedPart = z.infer<typeof UploadedPart>;

/** What a resuming client needs: the parts already stored. */
export const UploadStatus = UploadCreated.extend({
  size: z.number().int().positive(),
  parts: z.array(UploadedPart),
});
export type UploadStatus = z.infer<typeof UploadStatus>;

export const MediaUrl = z.object({
  /** Path and query on the API origin; usable without headers (an <img> src). */
  url: z.string(),
  expiresTs: Timestamp,
});
export type MediaUrl = z.infer<typeof MediaUrl>;
