/**
 * The alarm's jobs that belong to no single feature: the outbox flush (D1
 * index, inboxes, push), media cleanup in R2, and saving the room's metrics.
 * Each returns when it next needs to run; the scheduler (scheduler.ts) runs
 * them in the Room's order and keeps going past one that throws.
 */
import { type IndexWrite, writeIndex } from "../db/room-outbox";
import { sweepOrphans } from "../media/cleanup";
import type { Metrics, MetricsSnapshot } from "../ops/metrics";
import { errorText, log } from "../ops/log";
import type { Deliverer } from "./inbox-delivery";
import { type DeliveryEntry, type OutboxEntry, type OutboxSinks, flushDelay } from "./outbox";
import type { AlarmJob } from "./scheduler";
import type { RoomState } from "./state";

/** How soon a failed R2 delete is tried again. */
export const MEDIA_RETRY_MS = 60_000;
/** Where the room keeps its figures between instances (sync KV, written by the alarm). */
export const METRICS_KEY = "__metrics";

/** Writes the outbox's rows: D1 first, then deliveries; backs off while either fails. */
export class OutboxJob implements AlarmJob, OutboxSinks {
  readonly name = "outbox";
  #attempt = 0;

  constructor(
    private readonly state: RoomState,
    /** Where the index is written; tests swap in a failing database to prove retries. */
    public db: D1Database,
    private readonly deliverer: Deliverer,
    private readonly metrics: Metrics,
  ) {}

  async run(): Promise<number | null> {
    const { state } = this;
    if (state.outbox.pending === 0) return null;
    const result = await state.outbox.flush(this.#attempt, this);
    this.#attempt = result.ok ? 0 : this.#attempt + 1;
    if (result.d1LagMs !== null) this.metrics.observe("outbox_lag_ms", result.d1LagMs);
    if (!result.ok) this.metrics.count("outbox_failures");
    return result.more ? state.clock.now() + flushDelay(this.#attempt) : null;
  }

  writeIndex(writes: IndexWrite[]): Promise<void> {
    return writeIndex(this.db, writes);
  }

  deliver(entries: DeliveryEntry[]): Promise<boolean[]> {
    return this.deliverer.deliver(entries);
  }

  latest(entry: OutboxEntry): OutboxEntry {
    return this.state.index.latest(entry);
  }
}

/** Orphan uploads past their time, stale multipart uploads, and deletions R2 refused before. */
export class MediaCleanupJob implements AlarmJob {
  readonly name = "media_cleanup";

  constructor(
    private readonly state: RoomState,
    private readonly bucket: R2Bucket,
    private readonly orphanTtlMs: number,
  ) {}

  async run(now: number): Promise<number | null> {
    const { media, roomId } = this.state;
    try {
      await sweepOrphans(media, this.bucket, now, this.orphanTtlMs);
    } catch (error) {
      log("error", "media_cleanup_failed", { room: roomId, error: errorText(error) });
    }
    const oldest = media.oldestUnattached();
    const next = [
      oldest === null ? null : Math.max(now + 1000, oldest + this.orphanTtlMs),
      media.countDeleting() > 0 ? now + MEDIA_RETRY_MS : null,
    ].filter((t): t is number => t !== null);
    return next.length > 0 ? Math.min(...next) : null;
  }
}

/** Saves the room's figures when they changed, so eviction keeps most of them. */
export class SaveMetricsJob implements AlarmJob {
  readonly name = "metrics";

  constructor(
    private readonly metrics: Metrics,
    private readonly kv: { put(key: string, value: MetricsSnapshot): void },
  ) {}

  run(): null {
    if (this.metrics.takeChanged()) this.kv.put(METRICS_KEY, this.metrics.snapshot());
    return null;
  }
}
