/**
 * The room's event log: every change takes the next gap-free `seq`.
 *
 * Appends are synchronous SQL with no `await` between reading the head and
 * inserting, so two frames can never take the same seq (input gates do not
 * cover awaits on anything but storage; here there is nothing to await).
 */
import type { Message, Role, RoomEvent } from "../protocol";

export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  ts: number;
  actor: string;
  msg_id: string | null;
  content: string | null;
  client_id: string | null;
  data: string | null;
}

export class EventLog {
  #head: number;
  #lastTs: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly roomId: string,
  ) {
    const row = sql
      .exec<{ seq: number | null; ts: number | null }>("SELECT max(seq) AS seq, max(ts) AS ts FROM events")
      .one();
    this.#head = row.seq ?? 0;
    this.#lastTs = row.ts ?? 0;
  }

  get head(): number {
    return this.#head;
  }

  /** A timestamp that never goes backwards, so ordering by seq is ordering by time. */
  #nextTs(): number {
    this.#lastTs = Math.max(Date.now(), this.#lastTs);
    return this.#lastTs;
  }

  appendMessage(sender: string, content: string, clientId: string | undefined): Message {
    const seq = this.#head + 1;
    const ts = this.#nextTs();
    const id = newMessageId(ts);
    this.sql.exec(
      "INSERT INTO events (seq, type, ts, actor, msg_id, content, client_id) VALUES (?, 'message', ?, ?, ?, ?, ?)",
      seq,
      ts,
      sender,
      id,
      content,
      clientId ?? null,
    );
    this.#head = seq;
    return toMessage(this.roomId, { seq, type: "message", ts, actor: sender, msg_id: id, content, client_id: clientId ?? null, data: null });
  }

  appendMembership(type: "member_joined" | "member_left", userId: string, role?: Role): RoomEvent {
    const seq = this.#head + 1;
    const ts = this.#nextTs();
    const data = role ? JSON.stringify({ role }) : null;
    this.sql.exec("INSERT INTO events (seq, type, ts, actor, data) VALUES (?, ?, ?, ?, ?)", seq, type, ts, userId, data);
    this.#head = seq;
    return toEvent(this.roomId, { seq, type, ts, actor: userId, msg_id: null, content: null, client_id: null, data });
  }

  /**
   * Dev and benchmarks only (reached through a DEV_AUTH-guarded route): appends
   * `count` messages in one synchronous step, all stamped with the current
   * time, keeping seq gap-free and ts non-decreasing, and moves the cached head.
   * Returns the seq range written and the ts used.
   */
  seedMessagesForBench(sender: string, count: number, content: string): { fromSeq: number; toSeq: number; ts: number } {
    const ts = this.#nextTs();
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

  /** The message an earlier send with this client id stored, if any. */
  findByClientId(sender: string, clientId: string): Message | null {
    const row = this.sql
      .exec<EventRow>("SELECT * FROM events WHERE actor = ? AND client_id = ?", sender, clientId)
      .toArray()[0];
    return row ? toMessage(this.roomId, row) : null;
  }

  /** Events with seq in (after, after + limit], oldest first. */
  after(after: number, limit: number): RoomEvent[] {
    return this.sql
      .exec<EventRow>("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
      .toArray()
      .map((row) => toEvent(this.roomId, row));
  }
}

/** Ids sort by creation time and are unique without coordination. */
function newMessageId(ts: number): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  let suffix = "";
  for (const byte of random) suffix += byte.toString(16).padStart(2, "0");
  return `m_${ts.toString(36).padStart(9, "0")}${suffix}`;
}

export function toMessage(roomId: string, row: EventRow): Message {
  const message: Message = {
    id: row.msg_id ?? "",
    roomId,
    seq: row.seq,
    sender: row.actor,
    content: row.content ?? "",
    ts: new Date(row.ts).toISOString(),
  };
  if (row.client_id !== null) message.clientId = row.client_id;
  return message;
}

export function toEvent(roomId: string, row: EventRow): RoomEvent {
  const ts = new Date(row.ts).toISOString();
  switch (row.type) {
    case "message":
      return { type: "message", seq: row.seq, ts, message: toMessage(roomId, row) };
    case "member_joined": {
      const data = row.data ? (JSON.parse(row.data) as { role?: Role }) : {};
      return { type: "member_joined", seq: row.seq, ts, userId: row.actor, role: data.role ?? "member" };
    }
    default:
      return { type: "member_left", seq: row.seq, ts, userId: row.actor };
  }
}
