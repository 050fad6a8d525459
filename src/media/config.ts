/** Media limits a deployment can change through `[vars]`. */
export interface MediaConfig {
  /** Largest file accepted, in bytes (MEDIA_MAX_BYTES, default 25 MiB). */
  maxBytes: number;
  /** Part size of resumable uploads (MEDIA_PART_BYTES, default 5 MiB; R2 needs at least 5 MiB for all parts but the last). */
  partBytes: number;
  /** Bytes one user may upload per rolling hour (MEDIA_QUOTA_BYTES_PER_HOUR, default 200 MiB). */
  quotaBytesPerHour: number;
  /** An upload not attached to a message within this long is deleted (MEDIA_ORPHAN_TTL_MS, default 24 h). */
  orphanTtlMs: number;
  /** Content types accepted, after sniffing (MEDIA_ALLOWED_TYPES, comma separated; `image/*` style wildcards allowed). */
  allowedTypes: string[];
  /** Lifetime of a signed download URL (MEDIA_URL_TTL_S, default 3600). */
  urlTtlS: number;
}

export const MiB = 1024 * 1024;

export const DEFAULT_ALLOWED_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/heic",
  "image/heif",
  "video/mp4",
  "video/webm",
  "video/quicktime",
  "audio/mpeg",
  "audio/ogg",
  "audio/opus",
  "audio/wav",
  "audio/aac",
  "audio/x-m4a",
  "audio/mp4",
  "audio/webm",
  "application/pdf",
  "application/zip",
  "text/plain",
];

function intVar(value: unknown, fallback: number): number {
  const n = typeof value === "string" || typeof value === "number" ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export function mediaConfig(env: object): MediaConfig {
  const vars = env as Partial<Record<string, unknown>>;
  const types = typeof vars.MEDIA_ALLOWED_TYPES === "string" && vars.MEDIA_ALLOWED_TYPES.trim() !== ""
    ? vars.MEDIA_ALLOWED_TYPES.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean)
    : DEFAULT_ALLOWED_TYPES;
  return {
    maxBytes: intVar(vars.MEDIA_MAX_BYTES, 25 * MiB),
    partBytes: intVar(vars.MEDIA_PART_BYTES, 5 * MiB),
    quotaBytesPerHour: intVar(vars.MEDIA_QUOTA_BYTES_PER_HOUR, 200 * MiB),
    orphanTtlMs: intVar(vars.MEDIA_ORPHAN_TTL_MS, 24 * 60 * 60 * 1000),
    allowedTypes: types,
    urlTtlS: intVar(vars.MEDIA_URL_TTL_S, 3600),
  };
}

export function typeAllowed(contentType: string, allowed: string[]): boolean {
  return allowed.some((pattern) => pattern === contentType || (pattern.endsWith("/*") && contentType.startsWith(pattern.slice(0, -1))));
}
