/**
 * A user's erasure (right to be forgotten), run by their Inbox object in
 * bounded, resumable steps. The record of it (table `erasure`, one row, and
 * `erasure_rooms`, the rooms still to do) is in the Inbox's SQLite, so an
 * erasure that stops half-way (an eviction, a failed call) carries on from
 * its last committed step when the alarm next runs.
 *
 *   rooms    each room from the user's own record (memberships.ts) and the
 *            D1 index: their messages become tombstones, they leave, what
 *            else names them there takes the pseudonym (src/room/erasure.ts).
 *            A step calls at most `roomsPerStep` rooms, each call tombstones
 *            at most `messagesPerCall` messages.
 *   account  D1, one batch: sync log, push subscriptions, mutes, settings,
 *            index rows, audit rows (src/db/compliance.ts, eraseAccount).
 *   inbox    the Inbox's own state: its rooms, tickets, sockets, and the
 *            user's record of rooms.
 *
 * POST runs the first few steps before it answers (a light user is erased by
 * then); the alarm runs the rest, and GET reads the progress.
 */
import { roomsEverJoined } from "../db/room-index";
import { eraseAccount, stillHeld } from "../db/compliance";
import { errorText, log } from "../ops/log";
import type { MembershipRecord } from "./memberships";

export type ErasureStepName = "rooms" | "account" | "inbox" | "done";

export interface ErasureProgress {
  userId: string;
  state: "running" | "done";
  step: ErasureStepName;
  roomsTotal: number;
  roomsDone: number;
  messages: number;
  startedTs: string;
  finishedTs: string | null;
}

export interface ErasureLimits {
  roomsPerStep: number;
  messagesPerCall: number;
  /** Steps POST runs before it answers. */
  inlineSteps: number;
}

/** What the erasure needs of the Inbox that runs it. */
export interface ErasureHost {
  env: Env;
  now(): number;
  record: MembershipRecord;
  /** Empties the Inbox's own state (its rooms, tickets) and closes its sockets. */
  clearInbox(): void;
}

interface ErasureRow extends Record<string, SqlStorageValue> {
  user_id: string;
  admin: string;
  pseudonym: string;
  step: ErasureStepName;
  index_read: number;
  rooms_total: number;
  rooms_done: number;
  messages: number;
  started_ts: number;
  finished_ts: number | null;
}

/** How soon the alarm takes the next step, and retries one that failed. */
export const ERASURE_STEP_DELAY_MS = 50;
export const ERASURE_RETRY_MS = 30_000;

const schema = `
  CREATE TABLE IF NOT EXISTS erasure (
    id INTEGER PRIMARY KEY CHECK (id = 1), user_id TEXT NOT NULL, admin TEXT NOT NULL, pseudonym TEXT NOT NULL, step TEXT NOT NULL,
    index_read INTEGER NOT NULL, rooms_total INTEGER NOT NULL, rooms_done INTEGER NOT NULL, messages INTEGER NOT NULL,
    started_ts INTEGER NOT NULL, finished_ts INTEGER
  );
  CREATE TABLE IF NOT EXISTS erasure_rooms (room_id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS erasure_seen (room_id TEXT PRIMARY KEY);
`;

export class Erasure {
  limits: ErasureLimits = { roomsPerStep: 10, messagesPerCall: 500, inlineSteps: 4 };

  constructor(
    private readonly sql: SqlStorage,
    private readonly host: ErasureHost,
  ) {
    sql.exec(schema);
  }

  /** Starts an erasure (or continues the running one) and runs its first steps. */
  async start(admin: string, userId: string): Promise<ErasureProgress> {
    const row = this.#row();
    if (!row || row.step === "done") {
      this.sql.exec("DELETE FROM erasure");
      this.sql.exec("DELETE FROM erasure_rooms");
      this.sql.exec("DELETE FROM erasure_seen");
      this.sql.exec(
        "INSERT INTO erasure (id, user_id, admin, pseudonym, step, index_read, rooms_total, rooms_done, messages, started_ts) VALUES (1, ?, ?, ?, 'rooms', 0, 0, 0, 0, ?)",
        userId,
        admin,
        `erased:${crypto.randomUUID()}`,
        this.host.now(),
      );
    }
    for (let i = 0; i < this.limits.inlineSteps && this.#row()?.step !== "done"; i++) {
      try {
        await this.step();
      } catch (error) {
        log("warn", "deletion", { kind: "erasure_step_failed", user: this.#row()?.user_id, step: this.#row()?.step, error: errorText(error) });
        break; // The alarm carries on from this step.
      }
    }
    return this.progress()!;
  }

  progress(): ErasureProgress | null {
    const row = this.#row();
    if (!row) return null;
    return {
      userId: row.user_id,
      state: row.step === "done" ? "done" : "running",
      step: row.step,
      roomsTotal: row.rooms_total,
      roomsDone: row.rooms_done,
      messages: row.messages,
      startedTs: new Date(row.started_ts).toISOString(),
      finishedTs: row.finished_ts === null ? null : new Date(row.finished_ts).toISOString(),
    };
  }

  /** When the alarm should run the next step, or null when no erasure is running. */
  nextStepAt(): number | null {
    const row = this.#row();
    return row && row.step !== "done" ? this.host.now() + ERASURE_STEP_DELAY_MS : null;
  }

  /** The alarm's part: one step; a failure is retried later from the same place. */
  async onAlarm(): Promise<number | null> {
    if (!this.#row() || this.#row()?.step === "done") return null;
    try {
      await this.step();
    } catch (error) {
      log("warn", "deletion", { kind: "erasure_step_failed", user: this.#row()?.user_id, step: this.#row()?.step, error: errorText(error) });
      return this.host.now() + ERASURE_RETRY_MS;
    }
    return this.nextStepAt();
  }

  /** The step under way: a POST and the alarm never run two at once (a room would be counted twice). */
  #inFlight: Promise<void> | null = null;

  /** One bounded step; each commits what it did before the next begins. */
  step(): Promise<void> {
    this.#inFlight ??= this.#step().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #step(): Promise<void> {
    const row = this.#row();
    if (!row) return;
    if (row.step === "rooms") await this.#roomsStep(row);
    else if (row.step === "account") await this.#accountStep(row);
    else if (row.step === "inbox") this.#inboxStep();
  }

  async #roomsStep(row: ErasureRow): Promise<void> {
    const { env } = this.host;
    const userId = row.user_id;
    // The user's own record is read on every step: a room joined while the erasure runs is reached too.
    this.#addRooms(this.host.record.rooms());
    if (row.index_read === 0) {
      this.#addRooms(await roomsEverJoined(env.DB, userId));
      this.sql.exec("UPDATE erasure SET index_read = 1");
    }
    const batch = this.sql
      .exec<{ room_id: string }>("SELECT room_id FROM erasure_rooms ORDER BY room_id LIMIT ?", this.limits.roomsPerStep)
      .toArray()
      .map((r) => r.room_id);
    if (batch.length === 0) {
      this.sql.exec("UPDATE erasure SET step = 'account'");
      return;
    }
    // Read once per step: a held user's uploads keep their id (src/room/erasure.ts).
    const held = await stillHeld(env.DB, "user", userId);
    const options = { pseudonym: row.pseudonym, limit: this.limits.messagesPerCall, held };
    await Promise.all(
      batch.map(async (roomId) => {
        const result = await env.ROOMS.getByName(roomId).eraseUser(row.admin, userId, options);
        this.sql.exec("UPDATE erasure SET messages = messages + ?", result.messages);
        if (!result.done) return;
        if (this.sql.exec("DELETE FROM erasure_rooms WHERE room_id = ?", roomId).rowsWritten > 0) {
          this.sql.exec("UPDATE erasure SET rooms_done = rooms_done + 1");
        }
      }),
    );
  }

  /** Rooms not seen before join the list still to do (a room done once is not redone). */
  #addRooms(roomIds: string[]): void {
    for (const roomId of roomIds) {
      if (this.sql.exec("INSERT INTO erasure_seen (room_id) VALUES (?) ON CONFLICT DO NOTHING", roomId).rowsWritten === 0) continue;
      this.sql.exec("INSERT INTO erasure_rooms (room_id) VALUES (?)", roomId);
      this.sql.exec("UPDATE erasure SET rooms_total = rooms_total + 1");
    }
  }

  async #accountStep(row: ErasureRow): Promise<void> {
    await eraseAccount(this.host.env.DB, { admin: row.admin, userId: row.user_id, pseudonym: row.pseudonym, rooms: row.rooms_total, messages: row.messages, ts: this.host.now() });
    this.sql.exec("UPDATE erasure SET step = 'inbox'");
  }

  #inboxStep(): void {
    this.host.clearInbox();
    this.host.record.clear();
    this.sql.exec("DELETE FROM erasure_rooms");
    this.sql.exec("DELETE FROM erasure_seen");
    this.sql.exec("UPDATE erasure SET step = 'done', finished_ts = ?", this.host.now());
  }

  #row(): ErasureRow | null {
    return this.sql.exec<ErasureRow>("SELECT * FROM erasure").toArray()[0] ?? null;
  }
}
