/**
 * Serving a media object: Range (one range; a list of ranges gets the whole
 * object), conditional requests (If-None-Match, If-Range) and the headers that
 * keep a user's upload from acting as a page of our origin.
 */

export interface ServedMedia {
  key: string;
  contentType: string;
  filename: string;
  size: number;
  /** R2's httpEtag (quoted), recorded when the upload finished. */
  etag: string;
}

/** Inline types: the browser renders them as media, never as a document. */
const INLINE = /^(image|audio|video)\//;

export type ByteRange = { offset: number; length: number };

/** Parses a single `bytes=` range against `size`. null: serve everything; "unsatisfiable": 416. */
export function parseRange(header: string | null, size: number): ByteRange | null | "unsatisfiable" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multiple ranges or another unit: ignored, as RFC 9110 allows
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return size === 0 ? "unsatisfiable" : { offset: size - length, length };
  }
  const start = Number(a);
  if (start >= size) return "unsatisfiable";
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return "unsatisfiable";
  return { offset: start, length: end - start + 1 };
}

export function contentDisposition(contentType: string, filename: string): string {
  const kind = INLINE.test(contentType) ? "inline" : "attachment";
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function etagMatches(header: string, etag: string): boolean {
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === bare;
  });
}

export async function serveMedia(bucket: R2Bucket, media: ServedMedia, request: Request): Promise<Response> {
  const headers = new Headers({
    "Content-Type": media.contentType === "text/plain" ? "text/plain; charset=utf-8" : media.contentType,
    "Content-Disposition": contentDisposition(media.contentType, media.filename),
    // Never guess a type from the bytes, never run anything, even when opened as a page.
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
    // An object under a media id never changes; it is private because reading it needs membership.
    "Cache-Control": "private, max-age=31536000, immutable",
    ETag: media.etag,
    "Accept-Ranges": "bytes",
  });

  const ifNoneMatch = request.headers.get("If-None-Match");
  if (ifNoneMatch && etagMatches(ifNoneMatch, media.etag)) return new Response(null, { status: 304, headers });

  let range = parseRange(request.headers.get("Range"), media.size);
  const ifRange = request.headers.get("If-Range");
  if (ifRange && ifRange !== media.etag) range = null;
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${media.size}`);
    headers.delete("Content-Disposition");
    return new Response(null, { status: 416, headers });
  }

  const object = await bucket.get(media.key, range ? { range } : undefined);
  if (!object) return Response.json({ error: { code: "not_found", message: "media is gone" } }, { status: 404 });
  if (request.method === "HEAD") object.body.cancel().catch(() => undefined);
  const body = request.method === "HEAD" ? null : object.body;
  if (range) {
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${media.size}`);
    headers.set("Content-Length", String(range.length));
    return new Response(body, { status: 206, headers });
  }
  headers.set("Content-Length", String(media.size));
  return new Response(body, { status: 200, headers });
}
