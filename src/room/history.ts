/**
 * History reads: pages of messages, newest first across pages, oldest first
 * inside a page. Every bound is turned into a seq bound first (`ts` never
 * decreases with `seq`, and `events_ts` finds a time in O(log n)), so a page is
 * one range walk of the table's rowid b-tree however long the history is.
 */
import { DEFAULT_HISTORY_LIMIT, type Message, fail, ok, type Result } from "../protocol";
import { type EventRow, toMessage } from "./event-log";

export interface HistoryRequest {
  limit?: number;
  beforeTs?: string;
  from?: string;
  to?: string;
  cursor?: string;
  afterSeq?: number;
}

export interface HistoryResult {
  messages: Message[];
  nextCursor: string | null;
}

interface Cursor {
  /** Exclusive upper seq bound of the next page. */
  b: number;
  /** The lower seq bound of the original read (time range `from`), inclusive. */
  l?: number;
}

export function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const json = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const value: unknown = JSON.parse(json);
    if (typeof value !== "object" || value === null) return null;
    const { b, l } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(b) || (b as number) < 0) return null;
    if (l !== undefined && (!Number.isSafeInteger(l) || (l as number) < 0)) return null;
    return l === undefined ? { b: b as number } : { b: b as number, l: l as number };
  } catch {
    return null;
  }
}

/** The first seq at or after `ms`, or head + 1 when there is none. */
function firstSeqAtOrAfter(sql: SqlStorage, ms: number, head: number): number {
  const row = sql.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM events WHERE ts >= ?", ms).one();
  return row.seq ?? head + 1;
}

function parseTime(text: string | undefined, name: string): Result<number | undefined> {
  if (text === undefined) return ok(undefined);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? fail("invalid_request", `${name} is not a valid time`) : ok(ms);
}

export function readHistory(sql: SqlStorage, roomId: string, head: number, req: HistoryRequest): Result<HistoryResult> {
  const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
  const beforeTs = parseTime(req.beforeTs, "beforeTs");
  const from = parseTime(req.from, "from");
  const to = parseTime(req.to, "to");
  if (!beforeTs.ok) return beforeTs;
  if (!from.ok) return from;
  if (!to.ok) return to;

  // Newer-than reads serve gap fills after a resync: oldest first, no cursor.
  if (req.afterSeq !== undefined) {
    const rows = sql
      .exec<EventRow>(
        "SELECT * FROM events WHERE type = 'message' AND seq > ? ORDER BY seq LIMIT ?",
        req.afterSeq,
        limit,
      )
      .toArray();
    return ok({ messages: rows.map((r) => toMessage(roomId, r)), nextCursor: null });
  }

  let upper = head + 1; // exclusive
  let lower = 1; // inclusive
  if (req.cursor !== undefined) {
    const cursor = decodeCursor(req.cursor);
    if (!cursor) return fail("invalid_request", "cursor is not valid");
    upper = Math.min(upper, cursor.b);
    if (cursor.l !== undefined) lower = Math.max(lower, cursor.l);
  }
  if (beforeTs.value !== undefined) upper = Math.min(upper, firstSeqAtOrAfter(sql, beforeTs.value, head));
  if (to.value !== undefined) upper = Math.min(upper, firstSeqAtOrAfter(sql, to.value, head));
  if (from.value !== undefined) lower = Math.max(lower, firstSeqAtOrAfter(sql, from.value, head));

  if (upper <= lower) return ok({ messages: [], nextCursor: null });

  const rows = sql
    .exec<EventRow>(
      "SELECT * FROM events WHERE type = 'message' AND seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?",
      lower,
      upper,
      limit + 1,
    )
    .toArray();
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  page.reverse();
  const oldest = page[0];
  const nextCursor =
    hasMore && oldest ? encodeCursor(lower > 1 ? { b: oldest.seq, l: lower } : { b: oldest.seq }) : null;
  return ok({ messages: page.map((r) => toMessage(roomId, r)), nextCursor });
}
