/**
 * Per-user limits that need one serialisation point per user, whatever room
 * or Worker isolate the request lands on: one small Durable Object per user id.
 *
 * Upload quota: bytes per rolling hour, counted in one-minute buckets in
 * SQLite (at most 60 rows live), so a burst at the top of an hour cannot
 * double the allowance as a fixed window would.
 */
import { DurableObject } from "cloudflare:workers";

const MINUTE = 60_000;
const WINDOW_MINUTES = 60;

export type QuotaDecision = { ok: true; used: number } | { ok: false; retryAfter: number; used: number };

/**
 * Pure rule: may `bytes` more be charged, given the buckets (minute -> bytes)
 * still inside the window? If not, how many seconds until enough expires.
 */
export function decideQuota(buckets: Array<{ minute: number; bytes: number }>, bytes: number, limit: number, now: number): QuotaDecision {
  const nowMinute = Math.floor(now / MINUTE);
  const live = buckets.filter((b) => b.minute > nowMinute - WINDOW_MINUTES).sort((a, b) => a.minute - b.minute);
  const used = live.reduce((sum, b) => sum + b.bytes, 0);
  if (used + bytes <= limit) return { ok: true, used: used + bytes };
  if (bytes > limit) return { ok: false, retryAfter: WINDOW_MINUTES * 60, used };
  // Walk the oldest buckets until enough has expired.
  let freed = 0;
  for (const bucket of live) {
    freed += bucket.bytes;
    if (used - freed + bytes <= limit) {
      const expiresAt = (bucket.minute + WINDOW_MINUTES) * MINUTE;
      return { ok: false, retryAfter: Math.max(1, Math.ceil((expiresAt - now) / 1000)), used };
    }
  }
  return { ok: false, retryAfter: WINDOW_MINUTES * 60, used };
}

export class UserLimits extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS upload_bytes (minute INTEGER PRIMARY KEY, bytes INTEGER NOT NULL)");
  }

  /** Charges `bytes` against the hourly upload quota, or refuses with the seconds to wait. */
  chargeUpload(bytes: number, limit: number): QuotaDecision {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const nowMinute = Math.floor(now / MINUTE);
    sql.exec("DELETE FROM upload_bytes WHERE minute <= ?", nowMinute - WINDOW_MINUTES);
    const buckets = sql.exec<{ minute: number; bytes: number }>("SELECT minute, bytes FROM upload_bytes").toArray();
    const decision = decideQuota(buckets, bytes, limit, now);
    if (decision.ok) {
      sql.exec(
        "INSERT INTO upload_bytes (minute, bytes) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET bytes = bytes + excluded.bytes",
        nowMinute,
        bytes,
      );
    }
    return decision;
  }

  /** Gives back a charge whose upload was refused before any byte was stored. */
  refundUpload(bytes: number): void {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ minute: number }>("SELECT minute FROM upload_bytes ORDER BY minute DESC LIMIT 1").toArray()[0];
    if (row) sql.exec("UPDATE upload_bytes SET bytes = max(0, bytes - ?) WHERE minute = ?", bytes, row.minute);
  }
}
