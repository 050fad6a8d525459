/**
 * Presence in one room: a member is online while any of their devices has a
 * live socket here. When the last one goes, they stay "online" for a grace
 * period, so a flapping connection (a tunnel, a page reload) announces
 * nothing; after it they are announced offline with a last-seen time. Pending
 * announcements live in SQLite, because the room may hibernate in between.
 * Hidden users are never announced and always read as offline to others.
 * Owner of `presence_pending`.
 */
import type { PresenceEntry } from "../protocol";
import { EPHEMERAL_DROP_LAG, type LiveSockets } from "./connections";
import type { EventLog } from "./event-log";
import type { Members } from "./members";
import type { AlarmJob } from "./scheduler";

export class Presence implements AlarmJob {
  readonly name = "presence";

  constructor(
    private readonly sql: SqlStorage,
    private readonly roomId: string,
    private readonly members: Members,
    private readonly log: EventLog,
    private readonly sockets: LiveSockets,
    /** Tests shorten it on one room's instance. */
    private readonly graceMs: number,
  ) {}

  /** A socket of `userId` went live. */
  connected(userId: string): void {
    const pending = this.sql.exec("DELETE FROM presence_pending WHERE user_id = ? RETURNING user_id", userId).toArray();
    if (pending.length > 0) return; // back within the grace period: nothing changed for others
    if (this.sockets.devicesOf(userId) !== 1) return; // already online on another device
    this.#announce(userId, true, null);
  }

  /** An erasure: no offline announcement of the user is left pending (it would name them). */
  forget(userId: string): void {
    this.sql.exec("DELETE FROM presence_pending WHERE user_id = ?", userId);
  }

  /** A socket of `userId` closed. Returns when the offline announcement is due, if one is now pending. */
  disconnected(userId: string, now: number): number | null {
    if (this.sockets.devicesOf(userId) > 0) return null;
    const due = now + this.graceMs;
    this.sql.exec(
      "INSERT INTO presence_pending (user_id, left_ts, due_ts) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
      userId,
      now,
      due,
    );
    return due;
  }

  /** Announces those whose grace period ended. Returns the next due time, if any. */
  flushDue(now: number): number | null {
    const due = this.sql
      .exec<{ user_id: string; left_ts: number }>("SELECT user_id, left_ts FROM presence_pending WHERE due_ts <= ?", now)
      .toArray();
    for (const row of due) {
      this.sql.exec("DELETE FROM presence_pending WHERE user_id = ?", row.user_id);
      if (this.sockets.devicesOf(row.user_id) > 0) continue;
      this.members.setLastSeen(row.user_id, row.left_ts);
      this.#announce(row.user_id, false, row.left_ts);
    }
    const next = this.sql.exec<{ due: number | null }>("SELECT min(due_ts) AS due FROM presence_pending").one().due;
    return next;
  }

  /** The alarm job: offline announcements whose grace period ended. */
  run(now: number): number | null {
    return this.flushDue(now);
  }

  /**
   * Every member's presence as `viewer` may see it. The sockets are counted
   * once per call (members + sockets, not members x sockets).
   */
  list(viewer: string): PresenceEntry[] {
    const pending = new Set(this.sql.exec<{ user_id: string }>("SELECT user_id FROM presence_pending").toArray().map((r) => r.user_id));
    const counts = this.sockets.deviceCounts();
    return this.members.list().map((m) => {
      const hidden = m.presence_hidden === 1 && m.user_id !== viewer;
      const devices = counts.get(m.user_id) ?? 0;
      const online = devices > 0 || pending.has(m.user_id);
      if (hidden) return { userId: m.user_id, online: false, devices: 0, lastSeen: null };
      return {
        userId: m.user_id,
        online,
        devices,
        lastSeen: online || m.last_seen === null ? null : new Date(m.last_seen).toISOString(),
      };
    });
  }

  #announce(userId: string, online: boolean, lastSeen: number | null): void {
    if (this.members.get(userId)?.presence_hidden === 1) return;
    const frame = {
      type: "presence",
      roomId: this.roomId,
      userId,
      online,
      devices: this.sockets.devicesOf(userId),
      lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
    } as const;
    this.sockets.broadcastEphemeral(frame, this.log.head, { dropLag: EPHEMERAL_DROP_LAG });
  }
}
