/**
 * Message retention: the room's own period (set by owners and admins) or the
 * deployment default. Expired messages become tombstones in batches, run by
 * the alarm, so a long backlog never holds the room up.
 */
import { type Result, type RoomSettings, ok } from "../protocol";
import type { Metrics } from "../ops/metrics";
import { log } from "../ops/log";
import { type Actor, maySetRetention, memberOrAdmin } from "./policy";
import type { AlarmJob } from "./scheduler";
import type { RoomState } from "./state";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Events trimmed per alarm run: small enough not to hold the room up. */
export const RETENTION_BATCH = 500;

/** Days that apply here (the room's own, else the deployment default), or null: forever. */
export function retentionDays(state: RoomState): number | null {
  return state.meta.current?.retentionDays ?? state.limits.defaultRetentionDays;
}

function settingsOf(state: RoomState): RoomSettings {
  return { roomId: state.roomId, retentionDays: state.meta.current?.retentionDays ?? null, effectiveRetentionDays: retentionDays(state) };
}

export function settings(state: RoomState, userId: string): Result<RoomSettings> {
  return state.asMember(userId, () => ok(settingsOf(state)));
}

export function setRetention(state: RoomState, actor: Actor, days: number | null): Result<RoomSettings> {
  const role = memberOrAdmin(actor, state.requireMember(actor.userId));
  if (!role.ok) return role;
  const refused = maySetRetention(actor, role.value);
  if (refused) return { ok: false, error: refused };
  const ts = state.log.now();
  state.meta.patch({ retentionDays: days });
  state.index.audit(actor.userId, "retention_changed", null, days === null ? "default" : `${days} days`, ts);
  state.index.flushSoon();
  // A shorter retention may already have something to trim.
  state.wake.at(state.clock.now());
  return ok(settingsOf(state));
}

/**
 * Trims up to `batch` events older than the retention: messages become
 * tombstones (`expired`, no content, no attachments; their slot, id, sender
 * and time stay, so history and unread counts keep their shape), every other
 * event below the trim point is dropped. Content goes through the purge
 * queue, so a legal hold on the sender keeps it out of reach rather than
 * destroyed; a held room is not trimmed at all. The head event is never
 * dropped: the next seq is derived from it. Returns how many messages were
 * trimmed and when to look again (soon if a batch was full, else when the
 * oldest remaining event expires).
 */
export function trimExpired(state: RoomState, now: number, batch: number): { trimmed: number; next: number | null } {
  const meta = state.meta.current;
  const days = retentionDays(state);
  if (!meta || meta.held || meta.deletedTs !== null || days === null) return { trimmed: 0, next: null };
  const retentionMs = days * DAY_MS;
  const from = state.trimmedThrough;
  const head = state.log.head;
  // ts never decreases with seq: the first event at or after the cutoff bounds the range.
  const below = Math.min(state.log.firstSeqAtOrAfter(now - retentionMs), head);
  const seqs = state.log.seqsBetween(from, below, batch);
  let trimmed = 0;
  if (seqs.length > 0) {
    const last = seqs[seqs.length - 1]!;
    const expired = state.log.expire(from, last, now);
    for (const content of expired.content) state.purgeQueue.add(content, "expired", now);
    for (const seq of expired.withMedia) state.media.markMessageRemoved(seq);
    trimmed = expired.expired;
    state.meta.patch({ trimmedThrough: last });
    // The purge queue and removed media are emptied by the alarm.
    state.wake.at(state.clock.now());
    if (seqs.length === batch) return { trimmed, next: now + 1_000 };
  }
  // The oldest event that may still expire (never the head, which is never trimmed).
  const oldest = state.log.firstTsBetween(state.trimmedThrough, head);
  return { trimmed, next: oldest !== null ? Math.max(now + 1_000, oldest + retentionMs + 1) : null };
}

/** The alarm job: one batch per run. */
export class RetentionJob implements AlarmJob {
  readonly name = "retention";

  constructor(
    private readonly state: RoomState,
    private readonly metrics: Metrics,
  ) {}

  run(now: number): number | null {
    const { trimmed, next } = trimExpired(this.state, now, RETENTION_BATCH);
    if (trimmed > 0) {
      this.metrics.count("retention_trimmed", "", trimmed);
      log("info", "retention_trimmed", { room: this.state.roomId, trimmed, through: this.state.trimmedThrough });
    }
    return next;
  }
}
