/**
 * History reads: pages of messages, chronological inside a page. Backward
 * paging (the default) walks from the newest message to the oldest; forward
 * paging (`afterSeq`, or a forward cursor) walks from a position to the head,
 * which is how a client fills a gap it could not replay.
 *
 * Every bound is turned into a seq bound first (`ts` never decreases with
 * `seq`, and the log finds a time in O(log n)), so a page is one range walk
 * of the events table's rowid b-tree however long the history is.
 *
 * A page is capped by bytes as well as by count (HISTORY_PAGE_MAX_BYTES, as
 * JSON): rows are read in slices, and a page ends early once the next row
 * would take it over the cap, with the cursor that continues from there, so a
 * page of the largest messages costs the room about what it costs the reader.
 * A page always holds at least one row, so paging always moves on.
 */
import { decodeJson, encodeJson } from "../kernel/base64url";
import { DEFAULT_HISTORY_LIMIT, type Message, fail, ok, type Result } from "../protocol";
import type { EventLog } from "./event-log";
import type { RoomEvent } from "../protocol";
import type { RoomState } from "./state";

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
  events?: RoomEvent[];
}

/** Seq bounds of a read. Backward: [l, b). Forward: (a, u]. */
interface Cursor {
  b?: number;
  l?: number;
  a?: number;
  u?: number;
}

export function encodeCursor(cursor: Cursor): string {
  return encodeJson(cursor);
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const value = decodeJson(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    const cursor: Cursor = {};
    for (const key of ["b", "l", "a", "u"] as const) {
      const n = (value as Record<string, unknown>)[key];
      if (n === undefined) continue;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return null;
      cursor[key] = n;
    }
    const forward = cursor.a !== undefined;
    const backward = cursor.b !== undefined;
    return forward !== backward ? cursor : null;
  } catch {
    return null;
  }
}

function parseTime(text: string | undefined, name: string): Result<number | undefined> {
  if (text === undefined) return ok(undefined);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? fail("invalid_request", `${name} is not a valid time`) : ok(ms);
}

/** Rows read from SQLite at a time: a byte-capped page never reads far past its end. */
const HISTORY_SLICE = 25;

const encoder = new TextEncoder();
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

/**
 * Takes rows from `next` (slices in page order; an empty slice ends them)
 * until `limit` rows or `maxBytes` of JSON; `more` says whether a row was left.
 * `next(last, n)`: up to `n` rows after `last` (the first slice when undefined).
 */
function fill<T>(next: (last: T | undefined, n: number) => T[], limit: number, maxBytes: number): { rows: T[]; more: boolean } {
  const rows: T[] = [];
  let bytes = 0;
  for (;;) {
    // One row past the limit at most: enough to tell whether there are more.
    const want = Math.min(HISTORY_SLICE, limit - rows.length + 1);
    const slice = next(rows[rows.length - 1], want);
    for (const row of slice) {
      const size = jsonBytes(row);
      if (rows.length === limit || (rows.length > 0 && bytes + size > maxBytes)) return { rows, more: true };
      rows.push(row);
      bytes += size;
    }
    if (slice.length < want) return { rows, more: false };
  }
}

export function readHistory(log: EventLog, req: HistoryRequest, maxBytes = Number.MAX_SAFE_INTEGER): Result<HistoryResult> {
  const head = log.head;
  const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
  const cursor = req.cursor === undefined ? null : decodeCursor(req.cursor);
  if (req.cursor !== undefined && !cursor) return fail("invalid_request", "cursor is not valid");

  if (req.afterSeq !== undefined || cursor?.a !== undefined) {
    const after = Math.max(req.afterSeq ?? 0, cursor?.a ?? 0);
    return ok(readForward(log, after, Math.min(cursor?.u ?? head, head), limit, maxBytes));
  }

  const beforeTs = parseTime(req.beforeTs, "beforeTs");
  const from = parseTime(req.from, "from");
  const to = parseTime(req.to, "to");
  if (!beforeTs.ok) return beforeTs;
  if (!from.ok) return from;
  if (!to.ok) return to;

  let upper = head + 1; // exclusive
  let lower = 1; // inclusive
  if (cursor?.b !== undefined) upper = Math.min(upper, cursor.b);
  if (cursor?.l !== undefined) lower = Math.max(lower, cursor.l);
  if (beforeTs.value !== undefined) upper = Math.min(upper, log.firstSeqAtOrAfter(beforeTs.value));
  if (to.value !== undefined) upper = Math.min(upper, log.firstSeqAtOrAfter(to.value));
  if (from.value !== undefined) lower = Math.max(lower, log.firstSeqAtOrAfter(from.value));
  if (upper <= lower) return ok({ messages: [], nextCursor: null });

  const { rows: page, more: hasMore } = fill<Message>((last, n) => log.messagesBefore(lower, last?.seq ?? upper, n), limit, maxBytes);
  page.reverse();
  const oldest = page[0];
  const nextCursor = hasMore && oldest ? encodeCursor(lower > 1 ? { b: oldest.seq, l: lower } : { b: oldest.seq }) : null;
  return ok({ messages: page, nextCursor });
}

/**
 * Forward pages walk every event (not only messages), so that a client filling
 * a gap also sees the edits and deletions of messages it already had.
 */
function readForward(log: EventLog, after: number, upTo: number, limit: number, maxBytes: number): HistoryResult {
  const { rows: page, more: hasMore } = fill<RoomEvent>((last, n) => log.after(last?.seq ?? after, n, upTo), limit, maxBytes);
  const newest = page[page.length - 1];
  return {
    messages: page.flatMap((e) => (e.type === "message" ? [e.message] : [])),
    events: page,
    nextCursor: hasMore && newest ? encodeCursor({ a: newest.seq, u: upTo }) : null,
  };
}

/** A member's page of history, with the head and epoch it was read at. */
export function history(state: RoomState, userId: string, req: HistoryRequest): Result<HistoryResult & { headSeq: number; epoch: string }> {
  return state.asMember(userId, () => {
    const page = readHistory(state.log, req, state.limits.historyPageMaxBytes);
    return page.ok ? ok({ ...page.value, headSeq: state.log.head, epoch: state.epoch }) : page;
  });
}

/** The cursor a resync hands out: forward from `after` up to `upTo`. */
export function forwardCursor(after: number, upTo: number): string {
  return encodeCursor({ a: after, u: upTo });
}

/** The cursor of the newest page. */
export function latestCursor(head: number): string {
  return encodeCursor({ b: head + 1 });
}
