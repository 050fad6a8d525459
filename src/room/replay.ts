/**
 * A resuming socket's replay: the events after its position, read in slices
 * so one resume never holds the whole range in memory, and bounded so that
 * one `hello` cannot cost the room far more than it cost the sender.
 *
 * Edits collapse. An edit event holds no content: it reads its message as it
 * is now, so a message edited 400 times used to be replayed whole 400 times
 * (98 KB each, once JSON-escaped). Only the last edit of a message in the
 * replay carries it now; the earlier ones keep their slots, so the client's
 * stream stays gap-free, and say which later edit carries the state
 * (`supersededBy`), with no content of their own.
 *
 * Bytes are capped, as well as events (the caller checks the event cap
 * first). The replay stops before the frame that would cross `maxBytes`; the
 * caller then sends `resync` with a history cursor from the last event sent,
 * which the client pages exactly as after an event-capped resume.
 */
import type { Message, RoomEvent, ServerFrame } from "../protocol";
import { type RoomConnection, sendRaw } from "./connections";
import type { EventLog } from "./event-log";
import { type EventRow, iso } from "./event-rows";

/** Rows read from SQLite at a time. */
const REPLAY_SLICE = 500;

export interface ReplayTarget {
  roomId: string;
  epoch: string;
  connection: RoomConnection;
}

export interface Replayed {
  /** Events sent. */
  events: number;
  /** UTF-8 bytes sent. */
  bytes: number;
  /** The seq of the last event sent (the position the replay started from if none was). */
  through: number;
  /** The byte cap stopped the replay before `upTo`. */
  capped: boolean;
}

type MessageRef = ReturnType<EventLog["messageRef"]>;

/** Sends the events in (after, upTo] to the socket, edits collapsed, at most `maxBytes` of frames. */
export function replay(log: EventLog, target: ReplayTarget, after: number, upTo: number, maxBytes: number): Replayed {
  const lastEdits = log.lastEditsBetween(after, upTo);
  const refs = new Map<number, MessageRef>();
  const done: Replayed = { events: 0, bytes: 0, through: after, capped: false };
  while (done.through < upTo) {
    const rows = log.rowsAfter(done.through, REPLAY_SLICE, upTo);
    if (rows.length === 0) break;
    for (const row of rows) {
      const event = replayedEvent(log, target.roomId, row, lastEdits, refs);
      const text = JSON.stringify({ type: "event", roomId: target.roomId, epoch: target.epoch, seq: row.seq, event } satisfies ServerFrame);
      const size = utf8Length(text);
      if (done.bytes + size > maxBytes) return { ...done, capped: true };
      sendRaw(target.connection, text);
      done.events++;
      done.bytes += size;
      done.through = row.seq;
    }
  }
  return done;
}

/**
 * The event a row replays as: an edit that a later edit in this replay
 * supersedes carries no content, and reads none (only the message's id,
 * sender and time, once per message).
 */
function replayedEvent(log: EventLog, roomId: string, row: EventRow, lastEdits: Map<number, number>, refs: Map<number, MessageRef>): RoomEvent {
  if (row.type !== "message_edited" || row.data === null) return log.toEvent(row);
  const messageSeq = Number((JSON.parse(row.data) as { messageSeq?: unknown }).messageSeq);
  const last = lastEdits.get(messageSeq);
  if (last === undefined || last === row.seq) return log.toEvent(row);
  let ref = refs.get(messageSeq);
  if (ref === undefined) {
    ref = log.messageRef(messageSeq);
    refs.set(messageSeq, ref);
  }
  // Purged with its room: the edit reads as a tombstone, which is small already.
  if (ref === null) return log.toEvent(row);
  const ts = iso(row.ts);
  const message: Message = { id: ref.id, roomId, seq: messageSeq, sender: ref.sender, content: "", ts: iso(ref.ts), editedTs: ts };
  return { type: "message_edited", seq: row.seq, ts, message, supersededBy: last };
}

/** The UTF-8 length of `text` without encoding it (a lone surrogate encodes as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
