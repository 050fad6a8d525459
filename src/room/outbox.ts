/**
 * The outbox: how a room keeps D1 (the room index, each member's sync log,
 * the audit log) in step without writing D1 on its hot path. Changes are
 * recorded in the room's SQLite in the same turn as the change itself (so
 * they commit together), one row per key holding that key's latest state; an
 * alarm writes them to D1 in one batch of idempotent statements, in the order
 * they were made, and deletes only the rows it wrote. If D1 fails, the rows
 * stay and the alarm retries with backoff: the index may lag, but never loses
 * an update.
 */
import type { InboxKind, Role, RoomKind } from "../protocol";
import { errorText, log } from "../ops/log";
import type { Clock } from "../kernel/clock";

export type OutboxEntry =
  | {
      op: "room";
      roomId: string;
      kind: RoomKind;
      createdTs: number;
      lastActivityTs: number;
      lastSeq: number;
      deletedTs: number | null;
    }
  | { op: "member"; roomId: string; userId: string; role: Role; joinedTs: number; seq: number }
  | { op: "member_removed"; roomId: string; userId: string; seq: number; ts: number; silent?: boolean }
  /** New messages: one `room_activity` sync row per member (small rooms only; see core.ts). */
  | { op: "activity"; roomId: string; ts: number }
  /** Deleted or restored: a sync row for every member, online or not. */
  | { op: "room_state"; roomId: string; type: "room_deleted" | "room_restored"; seq: number; ts: number }
  /**
   * A notice for members' inboxes (per-user Durable Objects), not for D1: to
   * `userId`, or to every member when null. What it says (unread count, last
   * message) is read from the room when it is delivered, so a retry always
   * carries the latest state.
   */
  | { op: "inbox"; roomId: string; kind: InboxKind; seq: number; userId: string | null }
  /** A new message: offline members get a push notification (one row per room: the latest message). */
  | { op: "push"; roomId: string; seq: number }
  | { op: "audit"; id: string; ts: number; actor: string; action: string; roomId: string; target: string | null; detail: string | null };

/**
 * How long changes wait before the alarm writes them to D1. Measured (bench/README.md):
 * at 250 ms a busy room ran one alarm + D1 batch four times a second, and with
 * 10 to 100 active rooms in one workerd that cut message throughput to a third
 * of the baseline's; at 2 s it is back near the baseline. The index may lag by
 * seconds (DESIGN.md), and fewer, larger batches are also what D1 wants.
 */
const FLUSH_DELAY_MS = 2000;
const MAX_BACKOFF_MS = 60_000;
const MAX_ROWS_PER_FLUSH = 100;

export class Outbox {
  #version = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: Clock,
  ) {
    const row = sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM outbox").one();
    this.#version = row.v ?? 0;
  }

  put(key: string, entry: OutboxEntry): void {
    this.#version += 1;
    // queued_ts stays at the first unwritten change: the lag is measured from the oldest one.
    this.sql.exec(
      `INSERT INTO outbox (key, payload, version, queued_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, version = excluded.version`,
      key,
      JSON.stringify(entry),
      this.#version,
      this.clock.now(),
    );
  }

  /** Keys of `putLatest` rows written since a flush last claimed them. */
  #unclaimed = new Set<string>();

  /**
   * For a row that only says "the room moved on" (its activity, its latest
   * message): the first change writes it; later ones, until a flush claims
   * it, write nothing, and the flush brings it up to date from the room's
   * committed state (`refresh`), so nothing rests on this in-memory set: after
   * a restart the first change simply writes again. Four upserts per message
   * were most of the send path's SQL (bench/README.md); now it is one per flush.
   */
  putLatest(key: string, entry: OutboxEntry): void {
    if (this.#unclaimed.has(key)) return;
    this.put(key, entry);
    this.#unclaimed.add(key);
  }

  get pending(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /**
   * Writes pending rows to D1, and hands inbox and push rows to `deliverInbox`
   * (which says, per row, whether it went out). Never throws: a failure leaves
   * the rows for a retry. D1 and inboxes fail independently. `refresh` brings
   * `putLatest` rows up to date, and returns any other entry as the same object.
   */
  async flush(
    db: D1Database,
    attempt: number,
    deliverInbox?: (entries: Extract<OutboxEntry, { op: "inbox" | "push" }>[]) => Promise<boolean[]>,
    refresh: (entry: OutboxEntry) => OutboxEntry = (entry) => entry,
  ): Promise<{ ok: boolean; more: boolean; d1LagMs: number | null }> {
    const read = this.sql
      .exec<{ key: string; payload: string; version: number; queued_ts: number | null }>("SELECT * FROM outbox ORDER BY version LIMIT ?", MAX_ROWS_PER_FLUSH)
      .toArray()
      .map((row) => {
        const stored = JSON.parse(row.payload) as OutboxEntry;
        const entry = refresh(stored);
        return { ...row, entry, refreshed: entry !== stored };
      });
    if (read.length === 0) return { ok: true, more: false, d1LagMs: null };
    // A refreshed row speaks for the room as it is now, so it goes after the rows
    // written since it was (a member's "joined" notice before the activity that follows it).
    const rows = [...read.filter((row) => !row.refreshed), ...read.filter((row) => row.refreshed)];
    // Claimed: a change from here on writes its row again (a newer version, which
    // the delete below leaves for the next flush).
    for (const row of rows) this.#unclaimed.delete(row.key);
    const isDelivery = (op: OutboxEntry["op"]) => op === "inbox" || op === "push";
    const d1Rows = rows.filter((row) => !isDelivery(row.entry.op));
    const inboxRows = rows.filter((row) => isDelivery(row.entry.op));
    const done: typeof rows = [];
    let ok = true;
    let d1LagMs: number | null = null;
    if (d1Rows.length > 0) {
      try {
        await db.batch(d1Rows.flatMap((row) => statementsFor(db, row.entry)));
        done.push(...d1Rows);
        // The clock has moved on with the batch's I/O: this is when D1 had the rows.
        const now = this.clock.now();
        // One figure per flush, its oldest change: what the index's readers wait for at worst.
        const oldest = Math.min(...d1Rows.map((row) => row.queued_ts ?? now));
        d1LagMs = Math.max(0, now - oldest);
      } catch (error) {
        log("warn", "outbox_flush_failed", { attempt, rows: d1Rows.length, error: errorText(error) });
        ok = false;
      }
    }
    if (inboxRows.length > 0 && deliverInbox) {
      // Per row: inbox notices and push jobs fail independently, and a row that went out is
      // not sent again (a second push would be a second notification on the user's phone).
      let delivered: boolean[] = [];
      try {
        delivered = await deliverInbox(inboxRows.map((row) => row.entry as Extract<OutboxEntry, { op: "inbox" | "push" }>));
      } catch (error) {
        log("warn", "inbox_delivery_failed", { attempt, rows: inboxRows.length, error: errorText(error) });
      }
      inboxRows.forEach((row, i) => {
        if (delivered[i] === true) done.push(row);
        else ok = false;
      });
    }
    // A row rewritten while D1 was answering has a newer version: it stays for the next flush.
    for (const row of done) this.sql.exec("DELETE FROM outbox WHERE key = ? AND version = ?", row.key, row.version);
    return { ok, more: !ok || this.pending > 0, d1LagMs };
  }
}

export function flushDelay(attempt: number): number {
  if (attempt === 0) return FLUSH_DELAY_MS;
  const base = Math.min(MAX_BACKOFF_MS, FLUSH_DELAY_MS * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

function syncRow(db: D1Database, userId: string, type: string, roomId: string, ts: number, dedupe: string): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO sync_log (user_id, type, room_id, ts, dedupe) VALUES (?, ?, ?, ?, ?)")
    .bind(userId, type, roomId, ts, dedupe);
}

function statementsFor(db: D1Database, entry: OutboxEntry): D1PreparedStatement[] {
  switch (entry.op) {
    case "room":
      return [
        db
          .prepare(
            `INSERT INTO rooms (room_id, kind, created_ts, last_activity_ts, last_seq, deleted_ts) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (room_id) DO UPDATE SET
               last_activity_ts = max(rooms.last_activity_ts, excluded.last_activity_ts),
               deleted_ts = CASE WHEN excluded.last_seq >= rooms.last_seq THEN excluded.deleted_ts ELSE rooms.deleted_ts END,
               last_seq = max(rooms.last_seq, excluded.last_seq)`,
          )
          .bind(entry.roomId, entry.kind, entry.createdTs, entry.lastActivityTs, entry.lastSeq, entry.deletedTs),
      ];
    case "member":
      return [
        db
          .prepare(
            `INSERT INTO memberships (user_id, room_id, role, joined_ts, seq) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (user_id, room_id) DO UPDATE SET role = excluded.role, joined_ts = excluded.joined_ts, seq = excluded.seq
             WHERE excluded.seq >= memberships.seq`,
          )
          .bind(entry.userId, entry.roomId, entry.role, entry.joinedTs, entry.seq),
        syncRow(db, entry.userId, "room_joined", entry.roomId, entry.joinedTs, `${entry.roomId}|${entry.userId}|joined|${entry.seq}`),
        db.prepare("INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) VALUES (?, ?, ?)").bind(entry.userId, entry.roomId, entry.joinedTs),
      ];
    case "member_removed":
      return [
        db.prepare("DELETE FROM memberships WHERE user_id = ? AND room_id = ? AND seq <= ?").bind(entry.userId, entry.roomId, entry.seq),
        ...(entry.silent ? [] : [syncRow(db, entry.userId, "room_left", entry.roomId, entry.ts, `${entry.roomId}|${entry.userId}|left|${entry.seq}`)]),
        // A join and leave inside one flush leave only this entry: record the participation here too.
        db.prepare("INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) VALUES (?, ?, ?)").bind(entry.userId, entry.roomId, entry.ts),
      ];
    case "activity":
      // One row per member and room, moved to the end of the log by REPLACE: a client
      // syncing after a busy day learns "this room changed" once, not once per message.
      return [
        db
          .prepare(
            `INSERT OR REPLACE INTO sync_log (user_id, type, room_id, ts, dedupe)
             SELECT user_id, 'room_activity', room_id, ?, user_id || '|' || room_id || '|activity'
             FROM memberships WHERE room_id = ?`,
          )
          .bind(entry.ts, entry.roomId),
      ];
    case "room_state":
      return [
        db
          .prepare(
            `INSERT OR IGNORE INTO sync_log (user_id, type, room_id, ts, dedupe)
             SELECT user_id, ?, room_id, ?, room_id || '|' || user_id || '|' || ? || '|' || ?
             FROM memberships WHERE room_id = ?`,
          )
          .bind(entry.type, entry.ts, entry.type, entry.seq, entry.roomId),
      ];
    case "inbox":
    case "push":
      return [];
    case "audit":
      return [
        db
          .prepare("INSERT OR IGNORE INTO audit_log (id, ts, actor, action, room_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .bind(entry.id, entry.ts, entry.actor, entry.action, entry.roomId, entry.target, entry.detail),
      ];
  }
}
