/**
 * The room's event log: every change takes the next gap-free `seq`.
 *
 * Appends are synchronous SQL with no `await` between reading the head and
 * inserting, so two frames can never take the same seq (input gates do not
 * cover awaits on anything but storage; here there is nothing to await).
 *
 * Edits and deletions rewrite the message's own row (it keeps its slot) and
 * append an event that points at it. Those events hold no content of their
 * own: they read the message as it is now, so a deletion really removes the
 * text from every replay, and a replayed edit shows the latest state.
 *
 * Owner of the `events` table: every statement on it is here (appends, the
 * reads of replay, history and summaries, and the rewrites of edits,
 * deletions, erasure, retention and purge), which is why this module is over
 * 300 lines; the row codecs are in event-rows.ts, and replay.ts turns the
 * replay's rows into frames.
 */
import type { Attachment, LastMessage, Message, Role, RoomEvent } from "../protocol";
import type { Clock } from "../kernel/clock";
import { type EventRow, iso, newMessageId, toEvent, toMessage } from "./event-rows";

/** A message row's content as the purge queue takes it. */
export interface MessageContent {
  seq: number;
  messageId: string;
  sender: string;
  content: string;
}

/** How many recent client ids a room remembers for the re-check after a send's await. */
const RECENT_CLIENT_IDS = 512;

export class EventLog {
  #head: number;
  #lastTs: number;
  /**
   * Client ids of the messages this instance appended lately (sender and
   * client id -> seq), oldest first. Every message with a client id and a seq
   * above `#recentFloor` is in it, so "stored since seq N?" for N at or above
   * the floor is answered without SQL.
   */
  #recent = new Map<string, number>();
  #recentFloor: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly roomId: string,
    private readonly clock: Clock,
  ) {
    const row = sql.exec<{ seq: number | null; ts: number | null }>("SELECT max(seq) AS seq, max(ts) AS ts FROM events").one();
    this.#head = row.seq ?? 0;
    this.#lastTs = row.ts ?? 0;
    this.#recentFloor = this.#head;
  }

  get head(): number {
    return this.#head;
  }

  /** A timestamp that never goes backwards, so ordering by seq is ordering by time. */
  now(): number {
    this.#lastTs = Math.max(this.clock.now(), this.#lastTs);
    return this.#lastTs;
  }

  #append(type: string, actor: string, ts: number, fields: { msgId?: string; content?: string; clientId?: string; data?: unknown }): number {
    const seq = this.#head + 1;
    this.sql.exec(
      "INSERT INTO events (seq, type, ts, actor, msg_id, content, client_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      seq,
      type,
      ts,
      actor,
      fields.msgId ?? null,
      fields.content ?? null,
      fields.clientId ?? null,
      fields.data === undefined ? null : JSON.stringify(fields.data),
    );
    this.#head = seq;
    return seq;
  }

  /** Attachments, if any, are kept in the row's `data` as `{ attachments: [...] }`. */
  appendMessage(sender: string, content: string, clientId: string | undefined, attachments: Attachment[] = []): Message {
    const ts = this.now();
    const id = newMessageId(ts);
    const data = attachments.length > 0 ? { attachments } : undefined;
    const seq = this.#append("message", sender, ts, { msgId: id, content, clientId, data });
    // Built from what was just written rather than read back: one statement less per send.
    const message: Message = { id, roomId: this.roomId, seq, sender, content, ts: iso(ts) };
    if (clientId !== undefined) {
      message.clientId = clientId;
      this.#remember(sender, clientId, seq);
    }
    if (attachments.length > 0) message.attachments = attachments;
    return message;
  }

  appendMembership(type: "member_joined" | "member_left", userId: string, role?: Role): RoomEvent {
    const seq = this.#append(type, userId, this.now(), { data: role ? { role } : undefined });
    return this.event(seq)!;
  }

  /** Appends an event about the room or one of its messages; returns it as clients see it. */
  appendNotice(type: "message_edited" | "message_deleted" | "room_deleted" | "room_restored", actor: string, data: Record<string, unknown>): RoomEvent {
    const seq = this.#append(type, actor, this.now(), { data });
    return this.event(seq)!;
  }

  /** The message row with this id, deleted or not. */
  findMessage(messageId: string): EventRow | null {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE msg_id = ? AND type = 'message'", messageId).toArray()[0] ?? null;
  }

  /**
   * Dev and benchmarks only (reached through a DEV_AUTH-guarded route): appends
   * `count` messages in one synchronous step, all stamped with the current
   * time, keeping seq gap-free and ts non-decreasing, and moves the cached head.
   * Returns the seq range written and the ts used.
   */
  seedMessagesForBench(sender: string, count: number, content: string): { fromSeq: number; toSeq: number; ts: number } {
    const ts = this.now();
    const fromSeq = this.#head + 1;
    for (let i = 0; i < count; i++) {
      const seq = fromSeq + i;
      this.sql.exec(
        "INSERT INTO events (seq, type, ts, actor, msg_id, content) VALUES (?, 'message', ?, ?, ?, ?)",
        seq,
        ts,
        sender,
        newMessageId(ts),
        content,
      );
    }
    this.#head = fromSeq + count - 1;
    return { fromSeq, toSeq: this.#head, ts };
  }

  #remember(sender: string, clientId: string, seq: number): void {
    this.#recent.set(`${sender}\u0000${clientId}`, seq);
    if (this.#recent.size <= RECENT_CLIENT_IDS) return;
    const [oldest, oldestSeq] = this.#recent.entries().next().value!;
    this.#recent.delete(oldest);
    this.#recentFloor = Math.max(this.#recentFloor, oldestSeq);
  }

  /**
   * The message a send with this client id stored after `afterSeq`, if any:
   * the re-check once a send's await is over, which only needs what was
   * appended meanwhile (by this instance: an await never outlives it).
   */
  findByClientIdSince(sender: string, clientId: string, afterSeq: number): Message | null {
    if (afterSeq < this.#recentFloor) return this.findByClientId(sender, clientId);
    const seq = this.#recent.get(`${sender}\u0000${clientId}`);
    return seq !== undefined && seq > afterSeq ? this.message(seq) : null;
  }

  /** The message an earlier send with this client id stored, if any. */
  findByClientId(sender: string, clientId: string): Message | null {
    const row = this.sql
      .exec<EventRow>("SELECT * FROM events WHERE actor = ? AND client_id = ? AND type = 'message'", sender, clientId)
      .toArray()[0];
    return row ? toMessage(this.roomId, row) : null;
  }

  message(seq: number): Message | null {
    const row = this.sql.exec<EventRow>("SELECT * FROM events WHERE seq = ? AND type = 'message'", seq).toArray()[0];
    return row ? toMessage(this.roomId, row) : null;
  }

  event(seq: number): RoomEvent | null {
    const row = this.sql.exec<EventRow>("SELECT * FROM events WHERE seq = ?", seq).toArray()[0];
    return row ? this.toEvent(row) : null;
  }

  /** Events with seq in (after, after + limit], oldest first. */
  after(after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): RoomEvent[] {
    return this.rowsAfter(after, limit, upTo).map((row) => this.toEvent(row));
  }

  /** The rows of `after`, not yet read as events: a replay reads edits its own way (replay.ts). */
  rowsAfter(after: number, limit: number, upTo: number): EventRow[] {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, upTo, limit).toArray();
  }

  /** Each message edited in (after, upTo] (its seq), with the seq of its last edit there. */
  lastEditsBetween(after: number, upTo: number): Map<number, number> {
    const rows = this.sql.exec<{ message: number; last: number }>(
      "SELECT json_extract(data, '$.messageSeq') AS message, max(seq) AS last FROM events WHERE seq > ? AND seq <= ? AND type = 'message_edited' GROUP BY message",
      after,
      upTo,
    );
    return new Map(rows.toArray().map((row) => [Number(row.message), row.last]));
  }

  /**
   * A message's id, sender and time without its content. The columns before
   * `content` only: a long content spills into overflow pages, which SQLite
   * reads only for the columns asked for at or after it.
   */
  messageRef(seq: number): { id: string; sender: string; ts: number } | null {
    const row = this.sql
      .exec<{ msg_id: string; actor: string; ts: number }>("SELECT msg_id, actor, ts FROM events WHERE seq = ? AND type = 'message'", seq)
      .toArray()[0];
    return row ? { id: row.msg_id, sender: row.actor, ts: row.ts } : null;
  }

  toEvent(row: EventRow): RoomEvent {
    return toEvent(this.roomId, row, (seq) => this.message(seq));
  }

  // ---- Changes to stored messages (edits, deletions, erasure) -------------------

  /** An edit: the message keeps its slot (seq, id) and gains `edited_ts`. */
  rewrite(seq: number, content: string, editedTs: number): void {
    this.sql.exec("UPDATE events SET content = ?, edited_ts = ? WHERE seq = ?", content, editedTs, seq);
  }

  /** The row becomes a tombstone in its slot: its data held only the attachments, which a tombstone does not show. */
  tombstone(seq: number, deletedTs: number, deletedBy: string): void {
    this.sql.exec("UPDATE events SET content = NULL, data = NULL, deleted_ts = ?, deleted_by = ? WHERE seq = ?", deletedTs, deletedBy, seq);
  }

  /** Up to `limit` of the sender's messages that are not tombstones yet, oldest first (an erasure). */
  liveMessagesOf(sender: string, limit = -1): MessageContent[] {
    return this.sql
      .exec<{ seq: number; msg_id: string; content: string | null }>(
        "SELECT seq, msg_id, content FROM events WHERE type = 'message' AND actor = ? AND deleted_ts IS NULL ORDER BY seq LIMIT ?",
        sender,
        limit,
      )
      .toArray()
      .map((row) => ({ seq: row.seq, messageId: row.msg_id, sender, content: row.content ?? "" }));
  }

  /**
   * A deleted room's purge: every event goes, except the messages of
   * `keepSenders` (held users). They are bound as one JSON array: a statement
   * takes at most 100 parameters, and the held may be more.
   */
  purge(keepSenders: readonly string[]): void {
    this.sql.exec("DELETE FROM events WHERE type = 'message' AND actor NOT IN (SELECT value FROM json_each(?))", JSON.stringify(keepSenders));
    this.sql.exec(`DELETE FROM events WHERE type <> 'message'`);
  }

  /** Everyone with a message stored here, tombstones included (whom a purge must ask about holds). */
  messageSenders(): string[] {
    return this.sql
      .exec<{ actor: string }>("SELECT DISTINCT actor FROM events WHERE type = 'message'")
      .toArray()
      .map((row) => row.actor);
  }

  /**
   * An erasure: every event but messages (which keep their sender, as
   * tombstones) names `pseudonym` instead of the user, as actor or in its data.
   */
  renameActor(userId: string, pseudonym: string): void {
    this.sql.exec("UPDATE events SET actor = ? WHERE actor = ? AND type <> 'message'", pseudonym, userId);
    this.sql.exec(
      "UPDATE events SET data = replace(data, ?, ?) WHERE type <> 'message' AND instr(data, ?) > 0",
      JSON.stringify(userId),
      JSON.stringify(pseudonym),
      JSON.stringify(userId),
    );
  }

  // ---- Retention ---------------------------------------------------------------

  /** Up to `limit` seqs in (from, below), oldest first. */
  seqsBetween(from: number, below: number, limit: number): number[] {
    return this.sql
      .exec<{ seq: number }>("SELECT seq FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?", from, below, limit)
      .toArray()
      .map((row) => row.seq);
  }

  /**
   * Expires (from, through]: its live messages become `expired` tombstones and
   * every other event in it is dropped. Returns what the purge queue and the
   * media records must hear of: the content taken away, the seqs whose media
   * goes with it, and how many messages expired.
   */
  expire(from: number, through: number, now: number): { content: MessageContent[]; withMedia: number[]; expired: number } {
    const range = "seq > ? AND seq <= ? AND type = 'message' AND deleted_ts IS NULL";
    const rows = this.sql
      .exec<{ seq: number; msg_id: string; actor: string; content: string | null; data: string | null }>(
        `SELECT seq, msg_id, actor, content, data FROM events WHERE ${range}`,
        from,
        through,
      )
      .toArray();
    this.sql.exec(`UPDATE events SET content = NULL, data = NULL, deleted_ts = ?, deleted_by = NULL WHERE ${range}`, now, from, through);
    this.sql.exec("DELETE FROM events WHERE seq > ? AND seq <= ? AND type <> 'message'", from, through);
    return {
      content: rows.filter((r) => r.content).map((r) => ({ seq: r.seq, messageId: r.msg_id, sender: r.actor, content: r.content ?? "" })),
      withMedia: rows.filter((r) => r.data !== null).map((r) => r.seq),
      expired: rows.length,
    };
  }

  /** The time of the first event in (after, below), or null. */
  firstTsBetween(after: number, below: number): number | null {
    return this.sql.exec<{ ts: number }>("SELECT ts FROM events WHERE seq > ? AND seq < ? ORDER BY seq LIMIT 1", after, below).toArray()[0]?.ts ?? null;
  }

  /**
   * The first seq at or after `ms`, or head + 1 when there is none. Not
   * min(seq) ... WHERE ts >= ?: that visits every row after `ms` (measured: 360
   * ms at 1M messages, bench/README.md). events_ts is ordered by (ts, seq) and
   * ts never decreases with seq, so its first entry at or after `ms` is the
   * answer: O(log n).
   */
  firstSeqAtOrAfter(ms: number): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM events WHERE ts >= ? ORDER BY ts, seq LIMIT 1", ms).toArray()[0]?.seq ?? this.#head + 1;
  }

  // ---- Reads for history, summaries and the index --------------------------------

  /** Up to `limit` messages with seq in [lower, upper), newest first. */
  messagesBefore(lower: number, upper: number, limit: number): Message[] {
    return this.sql
      .exec<EventRow>("SELECT * FROM events WHERE type = 'message' AND seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?", lower, upper, limit)
      .toArray()
      .map((row) => toMessage(this.roomId, row));
  }

  /** The newest event's seq and time, as stored (committed state). */
  lastEvent(): { seq: number; ts: number } | null {
    return this.sql.exec<{ seq: number; ts: number }>("SELECT seq, ts FROM events ORDER BY seq DESC LIMIT 1").toArray()[0] ?? null;
  }

  /** The newest message's seq and time. */
  lastMessageRef(): { seq: number; ts: number } | null {
    return this.sql.exec<{ seq: number; ts: number }>("SELECT seq, ts FROM events WHERE type = 'message' ORDER BY seq DESC LIMIT 1").toArray()[0] ?? null;
  }

  /** The newest message as a room list shows it: a short preview, or a tombstone. */
  lastMessage(preview: (content: string) => string): LastMessage | null {
    const row = this.sql
      .exec<{ seq: number; msg_id: string; actor: string; content: string | null; ts: number; deleted_ts: number | null }>(
        "SELECT seq, msg_id, actor, content, ts, deleted_ts FROM events WHERE type = 'message' ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    if (!row) return null;
    const ts = iso(row.ts);
    if (row.deleted_ts !== null) return { id: row.msg_id, seq: row.seq, sender: row.actor, deleted: true, ts };
    return { id: row.msg_id, seq: row.seq, sender: row.actor, preview: preview(row.content ?? ""), ts };
  }

  /**
   * Messages after `readSeq` that are not deleted and not the reader's own, up
   * to `cap`. `seq` is the rowid, so this walks the b-tree from the read
   * position: the cost grows with the unread messages, never with the history.
   */
  unreadCount(reader: string, readSeq: number, cap: number): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM (
           SELECT 1 FROM events WHERE seq > ? AND type = 'message' AND deleted_ts IS NULL AND actor <> ? LIMIT ?
         )`,
        readSeq,
        reader,
        cap,
      )
      .one().n;
  }
}
