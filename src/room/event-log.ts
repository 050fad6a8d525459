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
 */
import type { Attachment, Message, Role, RoomEvent } from "../protocol";
import type { Clock } from "../kernel/clock";

export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  ts: number;
  actor: string;
  msg_id: string | null;
  content: string | null;
  client_id: string | null;
  data: string | null;
  edited_ts: number | null;
  deleted_ts: number | null;
  deleted_by: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

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
    this.#head = 0;
    this.#lastTs = 0;
    this.reload();
    this.#recentFloor = this.#head;
  }

  /** Re-reads the head from storage (after a bulk change such as a purge). */
  reload(): void {
    const row = this.sql
      .exec<{ seq: number | null; ts: number | null }>("SELECT max(seq) AS seq, max(ts) AS ts FROM events")
      .one();
    this.#head = Math.max(this.#head, row.seq ?? 0);
    this.#lastTs = Math.max(this.#lastTs, row.ts ?? 0);
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
    return this.sql
      .exec<EventRow>("SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, upTo, limit)
      .toArray()
      .map((row) => this.toEvent(row));
  }

  toEvent(row: EventRow): RoomEvent {
    const ts = iso(row.ts);
    const data = (row.data ? JSON.parse(row.data) : {}) as Record<string, unknown>;
    switch (row.type) {
      case "message":
        return { type: "message", seq: row.seq, ts, message: toMessage(this.roomId, row) };
      case "member_joined":
        return { type: "member_joined", seq: row.seq, ts, userId: row.actor, role: (data.role as Role | undefined) ?? "member" };
      case "member_left":
        return { type: "member_left", seq: row.seq, ts, userId: row.actor };
      case "message_edited": {
        const message = this.message(Number(data.messageSeq)) ?? tombstoneFor(this.roomId, data);
        return { type: "message_edited", seq: row.seq, ts, message };
      }
      case "message_deleted":
        return {
          type: "message_deleted",
          seq: row.seq,
          ts,
          messageId: String(data.messageId),
          messageSeq: Number(data.messageSeq),
          deletedBy: row.actor,
          deletedTs: typeof data.deletedTs === "number" ? iso(data.deletedTs) : ts,
        };
      case "room_deleted":
        return { type: "room_deleted", seq: row.seq, ts, deletedBy: row.actor, restorableUntil: iso(Number(data.restorableUntil)) };
      case "room_restored":
        return { type: "room_restored", seq: row.seq, ts, restoredBy: row.actor };
      default:
        throw new Error(`unknown event type in log: ${row.type}`);
    }
  }
}

/** Ids sort by creation time and are unique without coordination. */
function newMessageId(ts: number): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  let suffix = "";
  for (const byte of random) suffix += byte.toString(16).padStart(2, "0");
  return `m_${ts.toString(36).padStart(9, "0")}${suffix}`;
}

/** An edit event whose message row was purged with its room: show it as deleted. */
function tombstoneFor(roomId: string, data: Record<string, unknown>): Message {
  return { id: String(data.messageId), roomId, seq: Number(data.messageSeq), sender: "deleted", content: "", ts: iso(0), deleted: true };
}

export function toMessage(roomId: string, row: EventRow): Message {
  const message: Message = {
    id: row.msg_id ?? "",
    roomId,
    seq: row.seq,
    sender: row.actor,
    content: row.content ?? "",
    ts: iso(row.ts),
  };
  if (row.client_id !== null) message.clientId = row.client_id;
  if (row.deleted_ts !== null) {
    // A tombstone: no content and no attachments (their files are deleted with it).
    message.content = "";
    message.deleted = true;
    // No deleter: trimmed by the room's retention, not deleted by anyone.
    if (row.deleted_by === null) message.expired = true;
    else message.deletedBy = row.deleted_by;
    message.deletedTs = iso(row.deleted_ts);
    return message;
  }
  if (row.edited_ts !== null) message.editedTs = iso(row.edited_ts);
  if (row.data !== null) {
    const data = JSON.parse(row.data) as { attachments?: Attachment[] };
    if (data.attachments?.length) message.attachments = data.attachments;
  }
  return message;
}
