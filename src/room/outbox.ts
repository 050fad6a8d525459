/**
 * The outbox: how a room keeps the D1 index in step without writing D1 on its
 * hot path. Changes are recorded in the room's SQLite in the same turn as the
 * change itself (so they commit together), one row per key holding that key's
 * latest state; an alarm writes them to D1 in one batch of idempotent
 * statements and deletes only the rows it wrote. If D1 fails, the rows stay
 * and the alarm retries with backoff: the index may lag, but never loses an
 * update.
 */
import type { Role, RoomKind } from "../protocol";

export type OutboxEntry =
  | { op: "room"; roomId: string; kind: RoomKind; createdTs: number; lastActivityTs: number; lastSeq: number }
  | { op: "member"; roomId: string; userId: string; role: Role; joinedTs: number; seq: number }
  | { op: "member_removed"; roomId: string; userId: string; seq: number };

/**
 * How long changes wait before the alarm writes them to D1. Measured (bench/README.md):
 * at 250 ms a busy room ran one alarm + D1 batch four times a second, and with
 * 10 to 100 active rooms in one workerd that cut message throughput to a third
 * of the baseline's; at 2 s it is back near the baseline. The index may lag by
 * seconds (DESIGN.md), and fewer, larger batches are also what D1 wants.
 */
const FLUSH_DELAY_MS = 2000;
const MAX_BACKOFF_MS = 60_000;
/** D1 allows 100 bound parameters per statement; a batch keeps each statement small. */
const MAX_ROWS_PER_FLUSH = 200;

export class Outbox {
  #version = 0;

  constructor(private readonly sql: SqlStorage) {
    const row = sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM outbox").one();
    this.#version = row.v ?? 0;
  }

  put(key: string, entry: OutboxEntry): void {
    this.#version += 1;
    this.sql.exec(
      "INSERT INTO outbox (key, payload, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, version = excluded.version",
      key,
      JSON.stringify(entry),
      this.#version,
    );
  }

  get pending(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /**
   * Writes pending rows to D1. Returns the delay before the next flush is due,
   * or null when the outbox is empty. Throws nothing: a failure is a retry.
   */
  async flush(db: D1Database, attempt: number): Promise<{ ok: boolean; more: boolean }> {
    const rows = this.sql
      .exec<{ key: string; payload: string; version: number }>("SELECT * FROM outbox ORDER BY version LIMIT ?", MAX_ROWS_PER_FLUSH)
      .toArray();
    if (rows.length === 0) return { ok: true, more: false };
    try {
      await db.batch(rows.map((row) => statementFor(db, JSON.parse(row.payload) as OutboxEntry)));
    } catch (error) {
      console.warn(JSON.stringify({ event: "outbox_flush_failed", attempt, rows: rows.length, error: String(error) }));
      return { ok: false, more: true };
    }
    // A row rewritten while D1 was answering has a newer version: it stays for the next flush.
    for (const row of rows) this.sql.exec("DELETE FROM outbox WHERE key = ? AND version = ?", row.key, row.version);
    return { ok: true, more: this.pending > 0 };
  }
}

export function flushDelay(attempt: number): number {
  if (attempt === 0) return FLUSH_DELAY_MS;
  const base = Math.min(MAX_BACKOFF_MS, FLUSH_DELAY_MS * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

function statementFor(db: D1Database, entry: OutboxEntry): D1PreparedStatement {
  switch (entry.op) {
    case "room":
      return db
        .prepare(
          `INSERT INTO rooms (room_id, kind, created_ts, last_activity_ts, last_seq) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (room_id) DO UPDATE SET
             last_activity_ts = max(rooms.last_activity_ts, excluded.last_activity_ts),
             last_seq = max(rooms.last_seq, excluded.last_seq)`,
        )
        .bind(entry.roomId, entry.kind, entry.createdTs, entry.lastActivityTs, entry.lastSeq);
    case "member":
      return db
        .prepare(
          `INSERT INTO memberships (user_id, room_id, role, joined_ts, seq) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id, room_id) DO UPDATE SET role = excluded.role, joined_ts = excluded.joined_ts, seq = excluded.seq
           WHERE excluded.seq >= memberships.seq`,
        )
        .bind(entry.userId, entry.roomId, entry.role, entry.joinedTs, entry.seq);
    case "member_removed":
      return db
        .prepare("DELETE FROM memberships WHERE user_id = ? AND room_id = ? AND seq <= ?")
        .bind(entry.userId, entry.roomId, entry.seq);
  }
}
