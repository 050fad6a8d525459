/** Legal holds and the audit log in D1 (kept for AUDIT_RETENTION_DAYS). Holds are placed here first; rooms are then told. */
import { mutesErasure, subscriptionsErasure } from "./push";
import { privacyErasure } from "./settings";
import { USER_HELD } from "./room-outbox";
import { syncLogErasure } from "./sync";

export interface Hold {
  holdId: string;
  kind: "room" | "user";
  target: string;
  reason: string | null;
  placedBy: string;
  placedTs: string;
  releasedBy: string | null;
  releasedTs: string | null;
}

interface HoldRow {
  id: string;
  kind: "room" | "user";
  target: string;
  reason: string | null;
  placed_by: string;
  placed_ts: number;
  released_by: string | null;
  released_ts: number | null;
}

const toHold = (r: HoldRow): Hold => ({
  holdId: r.id,
  kind: r.kind,
  target: r.target,
  reason: r.reason,
  placedBy: r.placed_by,
  placedTs: new Date(r.placed_ts).toISOString(),
  releasedBy: r.released_by,
  releasedTs: r.released_ts === null ? null : new Date(r.released_ts).toISOString(),
});

export async function placeHold(db: D1Database, kind: "room" | "user", target: string, reason: string | null, by: string): Promise<Hold> {
  const id = `hold_${crypto.randomUUID()}`;
  const ts = Date.now();
  await db.batch([
    db.prepare("INSERT INTO legal_holds (id, kind, target, reason, placed_by, placed_ts) VALUES (?, ?, ?, ?, ?, ?)").bind(id, kind, target, reason, by, ts),
    auditStatement(db, { actor: by, action: "hold_placed", roomId: kind === "room" ? target : null, target: `${kind}:${target}`, detail: id, ts }),
  ]);
  return toHold({ id, kind, target, reason, placed_by: by, placed_ts: ts, released_by: null, released_ts: null });
}

export async function releaseHold(db: D1Database, holdId: string, by: string): Promise<Hold | null> {
  const row = await db.prepare("SELECT * FROM legal_holds WHERE id = ?").bind(holdId).first<HoldRow>();
  if (!row) return null;
  if (row.released_ts !== null) return toHold(row);
  const ts = Date.now();
  await db.batch([
    db.prepare("UPDATE legal_holds SET released_by = ?, released_ts = ? WHERE id = ? AND released_ts IS NULL").bind(by, ts, holdId),
    auditStatement(db, { actor: by, action: "hold_released", roomId: row.kind === "room" ? row.target : null, target: `${row.kind}:${row.target}`, detail: holdId, ts }),
  ]);
  return toHold({ ...row, released_by: by, released_ts: ts });
}

/** Whether any other active hold still covers the same target. */
export async function stillHeld(db: D1Database, kind: "room" | "user", target: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS x FROM legal_holds WHERE kind = ? AND target = ? AND released_ts IS NULL LIMIT 1").bind(kind, target).first();
  return row !== null;
}

export async function listHolds(db: D1Database, activeOnly: boolean): Promise<Hold[]> {
  const { results } = await db
    .prepare(`SELECT * FROM legal_holds ${activeOnly ? "WHERE released_ts IS NULL" : ""} ORDER BY placed_ts DESC LIMIT 500`)
    .all<HoldRow>();
  return results.map(toHold);
}

export interface AuditEntry {
  seq: number;
  id: string;
  ts: string;
  actor: string;
  action: string;
  roomId: string | null;
  target: string | null;
  detail: string | null;
}

export function auditStatement(
  db: D1Database,
  e: { actor: string; action: string; roomId: string | null; target: string | null; detail: string | null; ts: number },
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO audit_log (id, ts, actor, action, room_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(crypto.randomUUID(), e.ts, e.actor, e.action, e.roomId, e.target, e.detail);
}

/** Oldest first; `after` is the last seq of the previous page. */
export async function readAudit(db: D1Database, opts: { after: number; limit: number; roomId?: string }): Promise<{ entries: AuditEntry[]; nextAfter: number | null }> {
  const room = opts.roomId !== undefined;
  const { results } = await db
    .prepare(`SELECT * FROM audit_log WHERE seq > ? ${room ? "AND room_id = ?" : ""} ORDER BY seq LIMIT ?`)
    .bind(...(room ? [opts.after, opts.roomId, opts.limit + 1] : [opts.after, opts.limit + 1]))
    .all<{ seq: number; id: string; ts: number; actor: string; action: string; room_id: string | null; target: string | null; detail: string | null }>();
  const hasMore = results.length > opts.limit;
  const rows = hasMore ? results.slice(0, opts.limit) : results;
  return {
    entries: rows.map((r) => ({ seq: r.seq, id: r.id, ts: new Date(r.ts).toISOString(), actor: r.actor, action: r.action, roomId: r.room_id, target: r.target, detail: r.detail })),
    nextAfter: hasMore ? rows[rows.length - 1]!.seq : null,
  };
}

/**
 * The D1 part of an erasure, once every room is done, as one batch (so it is
 * all or nothing, and safe to repeat): the user's sync log, push
 * subscriptions, mutes, privacy settings and index rows go; audit rows that
 * name them as actor or target name `pseudonym` instead (the audit log is
 * otherwise append-only), all but the erasure's own entry, which is written
 * here and is the one record left that the user was erased. Legal holds on
 * the user (and their hold_placed entries, target `user:<id>`) stay: they are
 * the legal obligation that outlives the erasure.
 */
export async function eraseAccount(
  db: D1Database,
  e: { admin: string; userId: string; pseudonym: string; rooms: number; messages: number; ts: number },
): Promise<void> {
  await db.batch([
    syncLogErasure(db, e.userId),
    subscriptionsErasure(db, e.userId),
    mutesErasure(db, e.userId),
    privacyErasure(db, e.userId),
    db.prepare("DELETE FROM memberships WHERE user_id = ?").bind(e.userId),
    // Kept while a user hold is active: its release finds the rooms to purge through them.
    db.prepare(`DELETE FROM participation WHERE user_id = ? AND NOT ${USER_HELD}`).bind(e.userId, e.userId),
    db.prepare("UPDATE audit_log SET actor = ? WHERE actor = ? AND action <> 'user_erased'").bind(e.pseudonym, e.userId),
    db.prepare("UPDATE audit_log SET target = ? WHERE target = ? AND action <> 'user_erased'").bind(e.pseudonym, e.userId),
    auditStatement(db, { actor: e.admin, action: "user_erased", roomId: null, target: e.userId, detail: `${e.rooms} rooms, ${e.messages} messages`, ts: e.ts }),
  ]);
}

/** Audit rows removed per statement: one cron run trims a large backlog in bounded steps. */
const AUDIT_TRIM_BATCH = 5_000;

/**
 * Drops audit entries older than the retention period (AUDIT_RETENTION_DAYS;
 * run by the daily cron), so the append-only log does not grow for ever.
 * Bounded batches by the ts index, oldest first; returns how many went.
 */
export async function trimAuditLog(db: D1Database, retentionMs: number, now = Date.now(), maxBatches = 20): Promise<number> {
  let removed = 0;
  for (let i = 0; i < maxBatches; i++) {
    const result = await db
      .prepare("DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE ts < ? ORDER BY ts LIMIT ?)")
      .bind(now - retentionMs, AUDIT_TRIM_BATCH)
      .run();
    const changes = result.meta.changes ?? 0;
    removed += changes;
    if (changes < AUDIT_TRIM_BATCH) break;
  }
  return removed;
}
