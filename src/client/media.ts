/**
 * Uploading files. Small files go in one request; files above the multipart
 * threshold (default 8 MiB) go in parts, each retried on failure, so a failed
 * upload resumes from the last finished part instead of starting over. A
 * client that restarts (a reload) passes `resumeUploadId`: the server says
 * which parts it has and only the rest are sent.
 */
import { Attachment, UploadCreated, UploadStatus, UploadedPart } from "./answers";
import { ChatError } from "./errors";
import { type RetryOptions, withRetries } from "./retry";
import type { Transport } from "./transport";

export type MediaData = Blob | ArrayBuffer | Uint8Array;

export interface UploadOptions {
  /** Shown to other members; the server keeps the name but fixes a misleading extension. */
  filename?: string;
  /** A hint only: the server decides the type from the bytes (it matters for plain text). */
  contentType?: string;
  /**
   * Called with the bytes sent so far and the total: in browsers as the bytes
   * go out, elsewhere as each request (or part) is confirmed. It ends with
   * (total, total) once the server has the whole file.
   */
  onProgress?: (bytesSent: number, total: number) => void;
  /** Continue an earlier resumable upload of the same data (its id is on the MediaUploadError it failed with). */
  resumeUploadId?: string;
  /** Files larger than this use a resumable upload. Default 8 MiB. */
  multipartThreshold?: number;
  /** Attempts per part before giving up (default 5). */
  partAttempts?: number;
  signal?: AbortSignal;
}

/** An upload that failed after it started: `uploadId` resumes it (`resumeUploadId`) until it expires. */
export class MediaUploadError extends ChatError {
  constructor(
    cause: ChatError,
    readonly uploadId: string,
  ) {
    super(cause.code, cause.message, cause.status, cause.retryAfter);
  }
}

export const DEFAULT_MULTIPART_THRESHOLD = 8 * 1024 * 1024;

const mediaPath = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}/media`;

function toBlob(data: MediaData, type: string | undefined): Blob {
  if (data instanceof Blob) return data;
  return new Blob([data as BlobPart], type ? { type } : {});
}

export async function uploadMedia(transport: Transport, roomId: string, data: MediaData, options: UploadOptions = {}): Promise<Attachment> {
  const blob = toBlob(data, options.contentType);
  const filename = options.filename ?? (typeof File !== "undefined" && blob instanceof File ? blob.name : "file");
  const contentType = options.contentType ?? (blob.type || "application/octet-stream");
  const threshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const progress = options.onProgress ?? (() => undefined);

  if (options.resumeUploadId === undefined && blob.size <= threshold) {
    progress(0, blob.size);
    const attachment = await transport.upload(
      Attachment,
      "POST",
      mediaPath(roomId),
      blob,
      { "content-type": contentType, "x-filename": encodeURIComponent(filename) },
      options.signal,
      options.onProgress ? (loaded) => progress(Math.min(loaded, blob.size), blob.size) : undefined,
    );
    progress(blob.size, blob.size);
    return attachment;
  }
  return uploadInParts(transport, roomId, blob, filename, contentType, options);
}

async function uploadInParts(transport: Transport, roomId: string, blob: Blob, filename: string, contentType: string, options: UploadOptions): Promise<Attachment> {
  const progress = options.onProgress ?? (() => undefined);
  let upload: UploadCreated;
  const done = new Set<number>();
  let sent = 0;
  if (options.resumeUploadId !== undefined) {
    const status = await transport.request(UploadStatus, "GET", `${mediaPath(roomId)}/uploads/${encodeURIComponent(options.resumeUploadId)}`, undefined, options.signal);
    if (status.size !== blob.size) throw new ChatError("invalid_request", "the data is not the size of the upload being resumed");
    upload = status;
    for (const part of status.parts) {
      done.add(part.partNumber);
      sent += part.size;
    }
  } else {
    upload = await transport.request(UploadCreated, "POST", `${mediaPath(roomId)}/uploads`, { filename, contentType, size: blob.size }, options.signal);
  }
  const base = `${mediaPath(roomId)}/uploads/${upload.uploadId}`;
  progress(sent, blob.size);

  try {
    for (let n = 1; n <= upload.partCount; n++) {
      if (done.has(n)) continue;
      const start = (n - 1) * upload.partSize;
      const part = blob.slice(start, Math.min(blob.size, start + upload.partSize));
      const onPart = options.onProgress ? (loaded: number) => progress(sent + Math.min(loaded, part.size), blob.size) : undefined;
      await withRetries(
        () => transport.upload(UploadedPart, "PUT", `${base}/parts/${n}`, part, { "content-type": "application/octet-stream" }, options.signal, onPart),
        retries(options),
      );
      sent += part.size;
      progress(sent, blob.size);
    }
    return await withRetries(() => transport.request(Attachment, "POST", `${base}/complete`, undefined, options.signal), retries(options));
  } catch (error) {
    if (error instanceof ChatError && error.code !== "cancelled") throw new MediaUploadError(error, upload.uploadId);
    throw error;
  }
}

/** Each part (and the completion) is tried `partAttempts` times; an upload the server no longer knows cannot be resumed. */
function retries(options: UploadOptions): RetryOptions {
  return {
    attempts: options.partAttempts ?? 5,
    signal: options.signal,
    cancelledMessage: "upload was cancelled",
    isFinal: (error: ChatError) => error.code === "not_found",
  };
}
