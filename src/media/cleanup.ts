/**
 * Deleting media from R2 so that nothing leaks: orphans (uploads never
 * attached), the media of deleted messages, and everything of a purged room.
 *
 * Every path first marks the rows `deleting` in the room's SQLite (a
 * synchronous step, so no send can attach a file while it is being deleted),
 * then deletes the objects, then the rows. If R2 fails half way the rows stay
 * marked and the room's alarm tries again: deletion is idempotent.
 *
 * Legal holds are decided before anything is marked: the room's purge marks
 * removed media `deleting` only where no hold on the room or the uploader
 * keeps it (src/room/media.ts, releaseRemoved), and deletes a room's media
 * whole only once no hold keeps any of its content. Orphans (never attached)
 * belong to no message, so no hold keeps them.
 */

/** The part of the room's media table cleanup needs (src/room/media.ts implements it). */
export interface MediaCleanupStore {
  markExpired(cutoff: number): number;
  markAllForDeletion(): number;
  deleting(limit?: number): Array<{ media_id: string; r2_key: string; r2_upload_id: string | null; upload_id: string | null }>;
  remove(mediaId: string): void;
}

/** R2 deletes up to 1000 keys per call. */
const DELETE_BATCH = 1000;

/** Deletes every row marked `deleting` from R2 and then from the table. Returns how many were removed. */
export async function deleteMarked(store: MediaCleanupStore, bucket: R2Bucket): Promise<number> {
  let removed = 0;
  for (;;) {
    const rows = store.deleting(DELETE_BATCH);
    if (rows.length === 0) return removed;
    for (const row of rows) {
      // An unfinished multipart upload holds its parts in R2 until aborted.
      if (row.upload_id !== null && row.r2_upload_id !== null) {
        try {
          await bucket.resumeMultipartUpload(row.r2_key, row.r2_upload_id).abort();
        } catch {
          // Already completed or aborted: the object delete below covers the first case.
        }
      }
    }
    await bucket.delete(rows.map((r) => r.r2_key));
    for (const row of rows) store.remove(row.media_id);
    removed += rows.length;
    if (rows.length < DELETE_BATCH) return removed;
  }
}

/** The alarm's job: uploads not attached within `ttlMs` go, with their parts. */
export async function sweepOrphans(store: MediaCleanupStore, bucket: R2Bucket, now: number, ttlMs: number): Promise<number> {
  store.markExpired(now - ttlMs);
  return deleteMarked(store, bucket);
}

/**
 * Deletes every media object of a room: the recorded ones (aborting unfinished
 * multipart uploads), then anything else under the room's prefix, so even an
 * object whose row was lost does not outlive its room.
 */
export async function deleteAllRoomMedia(bucket: R2Bucket, prefix: string, store: MediaCleanupStore): Promise<number> {
  store.markAllForDeletion();
  let removed = await deleteMarked(store, bucket);
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, limit: DELETE_BATCH });
    if (page.objects.length > 0) {
      await bucket.delete(page.objects.map((o) => o.key));
      removed += page.objects.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return removed;
}
