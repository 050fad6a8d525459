/**
 * Signed download URLs of the open conversation's attachments, cached per
 * media id: every render of a message asks again, and the server hands out
 * the same URL within its window anyway. A failed request is forgotten so
 * the next render tries again.
 */
import type { MediaUrlSource } from "../attachments";

/** Signed media URLs last about an hour (the server's MEDIA_URL_TTL_S default); reuse one for half of that. */
export const MEDIA_URL_REUSE_MS = 30 * 60_000;

export function mediaUrlCache(fetchUrl: MediaUrlSource, now: () => number = Date.now): MediaUrlSource {
  const cache = new Map<string, { at: number; url: Promise<string> }>();
  return (mediaId) => {
    const cached = cache.get(mediaId);
    if (cached && now() - cached.at < MEDIA_URL_REUSE_MS) return cached.url;
    const url = fetchUrl(mediaId);
    cache.set(mediaId, { at: now(), url });
    url.catch(() => cache.delete(mediaId));
    return url;
  };
}
