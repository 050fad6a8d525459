/**
 * The outbox: how a room keeps D1 (the room index, each member's sync log,
 * the audit log) in step without writing D1 on its hot path. Changes are
 * recorded in the room's SQLite in the same turn as the change itself (so
 * they commit together), one row per key holding that key's latest state; an
 * alarm writes them to D1 in one batch of idempotent statements, in the order
 * they were made, and deletes only the rows it wrote. If D1 fails, the rows
 * stay and the alarm retries with backoff: the index may lag, but never loses
 * an update. Owner of `outbox`; the D1 statements are in src/db/room-outbox.ts.
 */
import type { InboxKind } from "../protocol";
import type { IndexWrite } from "../db/room-outbox";
import { errorText, log } from "../ops/log";
import type { Clock } from "../kernel/clock";

/** What an outbox row holds: a write for D1, or a delivery (inbox notice, push). */
export type OutboxEntry = IndexWrite | DeliveryEntry;

export type DeliveryEntry =
  /**
   * A notice for members' inboxes (per-user Durable Objects), not for D1: to
   * `userId`, or to every member when null. What it says (unread count, last
   * message) is read from the room when it is delivered, so a retry always
   * carries the latest state.
   */
  | { op: "inbox"; roomId: string; kind: InboxKind; seq: number; userId: string | null }
  /** A new message: offline members get a push notification (one row per room: the latest message). */
  | { op: "push"; roomId: string; seq: number };

/** Where a flush sends its rows. Each side fails alone; a row that did not go out stays. */
export interface OutboxSinks {
  /** Writes D1 rows as one batch; throws if D1 refuses it. */
  writeIndex(writes: IndexWrite[]): Promise<void>;
  /** Sends deliveries; says per row whether it went out. */
  deliver(entries: DeliveryEntry[]): Promise<boolean[]>;
  /**
   * What a `putLatest` row says when it is flushed (the room as it is now);
   * any other entry comes back as the same object.
   */
  latest(entry: OutboxEntry): OutboxEntry;
}

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

  /**
   * An erasure of `userId` here (src/room/erasure.ts): the rows not yet in D1
   * that name them are rewritten so that, whenever they flush (before or
   * after the account step), none re-creates what the erasure removed. Audit
   * rows name `pseudonym` instead; a membership row becomes an erased removal
   * (which deletes their index rows and writes no participation or sync row);
   * inbox notices to them go. Each rewritten row gets a new version, so a
   * flush already in flight with the old payload leaves the new one for the
   * next flush (which then corrects what the old one wrote).
   */
  forgetUser(userId: string, pseudonym: string | undefined): number {
    const rows = this.sql.exec<{ key: string; payload: string }>("SELECT key, payload FROM outbox").toArray();
    let changed = 0;
    for (const row of rows) {
      const entry = JSON.parse(row.payload) as OutboxEntry;
      const next = forgotten(entry, userId, pseudonym);
      if (next === entry) continue;
      changed += 1;
      if (next === null) {
        this.sql.exec("DELETE FROM outbox WHERE key = ?", row.key);
        continue;
      }
      this.#version += 1;
      this.sql.exec("UPDATE outbox SET payload = ?, version = ? WHERE key = ?", JSON.stringify(next), this.#version, row.key);
    }
    return changed;
  }

  get pending(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /**
   * Writes pending rows to D1 and hands inbox and push rows to their sink.
   * Never throws: a failure leaves the rows for a retry. D1 and deliveries fail
   * independently.
   */
  async flush(attempt: number, sinks: OutboxSinks): Promise<{ ok: boolean; more: boolean; d1LagMs: number | null }> {
    const read = this.sql
      .exec<{ key: string; payload: string; version: number; queued_ts: number | null }>("SELECT * FROM outbox ORDER BY version LIMIT ?", MAX_ROWS_PER_FLUSH)
      .toArray()
      .map((row) => {
        const stored = JSON.parse(row.payload) as OutboxEntry;
        const entry = sinks.latest(stored);
        return { ...row, entry, refreshed: entry !== stored };
      });
    if (read.length === 0) return { ok: true, more: false, d1LagMs: null };
    // A refreshed row speaks for the room as it is now, so it goes after the rows
    // written since it was (a member's "joined" notice before the activity that follows it).
    const rows = [...read.filter((row) => !row.refreshed), ...read.filter((row) => row.refreshed)];
    // Claimed: a change from here on writes its row again (a newer version, which
    // the delete below leaves for the next flush).
    for (const row of rows) this.#unclaimed.delete(row.key);
    const d1Rows = rows.flatMap((row) => (isDelivery(row.entry) ? [] : [{ ...row, entry: row.entry }]));
    const deliveryRows = rows.flatMap((row) => (isDelivery(row.entry) ? [{ ...row, entry: row.entry }] : []));
    const done: Array<{ key: string; version: number }> = [];
    let ok = true;
    let d1LagMs: number | null = null;
    if (d1Rows.length > 0) {
      try {
        await sinks.writeIndex(d1Rows.map((row) => row.entry));
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
    if (deliveryRows.length > 0) {
      // Per row: inbox notices and push jobs fail independently, and a row that went out is
      // not sent again (a second push would be a second notification on the user's phone).
      let delivered: boolean[] = [];
      try {
        delivered = await sinks.deliver(deliveryRows.map((row) => row.entry));
      } catch (error) {
        log("warn", "inbox_delivery_failed", { attempt, rows: deliveryRows.length, error: errorText(error) });
      }
      deliveryRows.forEach((row, i) => {
        if (delivered[i] === true) done.push(row);
        else ok = false;
      });
    }
    // A row rewritten while D1 was answering has a newer version: it stays for the next flush.
    for (const row of done) this.sql.exec("DELETE FROM outbox WHERE key = ? AND version = ?", row.key, row.version);
    return { ok, more: !ok || this.pending > 0, d1LagMs };
  }
}

/** The entry with `userId` forgotten: the same object if it does not name them, null if it goes. */
function forgotten(entry: OutboxEntry, userId: string, pseudonym: string | undefined): OutboxEntry | null {
  switch (entry.op) {
    case "audit": {
      if (!pseudonym || (entry.actor !== userId && entry.target !== userId)) return entry;
      const rename = (id: string) => (id === userId ? pseudonym : id);
      return { ...entry, actor: rename(entry.actor), target: entry.target === null ? null : rename(entry.target) };
    }
    case "member":
      return entry.userId === userId ? { op: "member_removed", roomId: entry.roomId, userId, seq: entry.seq, ts: entry.joinedTs, silent: true, erased: true } : entry;
    case "member_removed":
      return entry.userId === userId && !entry.erased ? { ...entry, silent: true, erased: true } : entry;
    case "inbox":
      return entry.userId === userId ? null : entry;
    default:
      return entry;
  }
}

function isDelivery(entry: OutboxEntry): entry is DeliveryEntry {
  return entry.op === "inbox" || entry.op === "push";
}

export function flushDelay(attempt: number): number {
  if (attempt === 0) return FLUSH_DELAY_MS;
  const base = Math.min(MAX_BACKOFF_MS, FLUSH_DELAY_MS * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}
