/**
 * Each user's sync log: how a device that was offline for hours or months
 * learns which of its rooms were joined, left, deleted, restored or active.
 * Rows are written by room outboxes (so the log lags the rooms by seconds at
 * most) and kept for the retention period; a cursor older than that cannot be
 * continued and gets `resync_required`.
 */
import { z } from "zod";
import { decodeJson, encodeJson } from "../kernel/base64url";
import type { SyncPage } from "../protocol";

export const SYNC_PAGE_SIZE = 500;

const SyncCursor = z.object({
  /** Last log id delivered. */
  i: z.int().min(0),
  /** When the cursor was issued: its age decides whether the log still covers it. */
  t: z.int(),
});
type SyncCursor = z.infer<typeof SyncCursor>;

export function encodeSyncCursor(cursor: SyncCursor): string {
  return encodeJson(cursor);
}

export function decodeSyncCursor(text: string): SyncCursor | null {
  try {
    const cursor = SyncCursor.safeParse(decodeJson(text));
    return cursor.success ? cursor.data : null;
  } catch {
    return null;
  }
}

export type SyncOutcome = { ok: true; page: SyncPage } | { ok: false; reason: "invalid_cursor" | "expired" };

export async function readSync(db: D1Database, userId: string, cursorText: string | undefined, retentionMs: number, now = Date.now()): Promise<SyncOutcome> {
  let after = 0;
  if (cursorText !== undefined) {
    const cursor = decodeSyncCursor(cursorText);
    if (!cursor) return { ok: false, reason: "invalid_cursor" };
    if (cursor.t < now - retentionMs) return { ok: false, reason: "expired" };
    after = cursor.i;
  }
  const { results } = await db
    .prepare("SELECT id, type, room_id, ts FROM sync_log WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?")
    .bind(userId, after, SYNC_PAGE_SIZE + 1)
    .all<{ id: number; type: string; room_id: string; ts: number }>();
  const hasMore = results.length > SYNC_PAGE_SIZE;
  const rows = hasMore ? results.slice(0, SYNC_PAGE_SIZE) : results;
  const last = rows[rows.length - 1]?.id ?? after;
  return {
    ok: true,
    page: {
      events: rows.map((r) => ({ type: r.type as SyncPage["events"][number]["type"], roomId: r.room_id, ts: new Date(r.ts).toISOString() })),
      cursor: encodeSyncCursor({ i: last, t: now }),
      hasMore,
    },
  };
}

/** Drops sync rows older than the retention period (run by the daily cron). */
export async function trimSyncLog(db: D1Database, retentionMs: number, now = Date.now()): Promise<number> {
  const result = await db.prepare("DELETE FROM sync_log WHERE ts < ?").bind(now - retentionMs).run();
  return result.meta.changes ?? 0;
}

/** Deletes a user's whole sync log (erasure); batched with its audit entry by the caller. */
export function syncLogErasure(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM sync_log WHERE user_id = ?").bind(userId);
}

/** A cursor at the end of the user's log: continue from here after rebuilding. */
export async function latestSyncCursor(db: D1Database, userId: string, now = Date.now()): Promise<string> {
  const row = await db.prepare("SELECT max(id) AS id FROM sync_log WHERE user_id = ?").bind(userId).first<{ id: number | null }>();
  return encodeSyncCursor({ i: row?.id ?? 0, t: now });
}
