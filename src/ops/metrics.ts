/**
 * Operational figures: counters and latency histograms, kept in memory by
 * each isolate (the Worker) and each room object, and written to a Workers
 * Analytics Engine dataset (binding `METRICS`) when one is bound, so that
 * production figures can be queried with SQL across every instance
 * (docs/operations.md). `GET /api/admin/stats` shows the in-memory ones.
 *
 * Data point layout (one point per observation; keep docs/operations.md in step):
 *   index1  = scope: the room id, or "worker" for the Worker itself (the sampling key)
 *   blob1   = metric name (see METRIC_NAMES)
 *   blob2   = label: an error code, a close code, a resume outcome, an HTTP status, or ""
 *   blob3   = scope again (indexes cannot be selected in every query tool)
 *   double1 = value: 1 for a counter event, the measure for a histogram (ms, events, sockets)
 * A query weights each row by `_sample_interval`, as Analytics Engine samples at high volume.
 *
 * Histograms use exponential buckets (four per doubling, so a percentile is
 * within about 19% of the truth) held sparsely: they merge by adding counts,
 * which is what lets the stats endpoint sum many rooms' figures.
 */

/** Every metric name, with what kind of figure it is. */
export const METRIC_NAMES = {
  /** A message was stored (each retry of the same clientId counts once, as it stores nothing). */
  messages_accepted: "counter",
  /** A send was refused; label: the error code. */
  messages_refused: "counter",
  /** Server time from a send's receipt (frame or RPC) to its ack, ms; label: "ws" or "http". */
  send_ack_ms: "histogram",
  /** Live sockets a new message was written to. */
  fanout: "histogram",
  /** A socket was accepted by a room. */
  connections_opened: "counter",
  /** A socket went away; label: the close code. */
  connections_closed: "counter",
  /** Live sockets in the room after a connect or close (a gauge: read the latest). */
  live_connections: "histogram",
  /** A socket resumed from a position; label: "replayed", "too_far_behind" or "epoch_changed". */
  resumes: "counter",
  /** Events replayed by one resume. */
  replay_events: "histogram",
  /** Time from a change to its D1 write by the outbox, ms (the index's lag). */
  outbox_lag_ms: "histogram",
  /** An outbox flush failed (D1 or inbox delivery); it is retried with backoff. */
  outbox_failures: "counter",
  /** Push jobs a room put on the queue. */
  push_enqueued: "counter",
  /** The room could not enqueue push jobs (the outbox retries them). */
  push_enqueue_failures: "counter",
  /** Web Push messages the consumer sent. */
  push_sent: "counter",
  /** Push consumer failures; label: "retry" (5xx/429/network, retried), "gone" (404/410), "given_up", "job_failed". */
  push_failures: "counter",
  /** A message was deleted (tombstoned) by a user or admin; label: "message" or "room" for a whole room. */
  deletions: "counter",
  /** Messages trimmed by the room's retention. */
  retention_trimmed: "counter",
  /** HTTP requests answered by the Worker; label: the status code. */
  http_requests: "counter",
  /** HTTP request time in the Worker, ms. */
  http_ms: "histogram",
} as const;

export type MetricName = keyof typeof METRIC_NAMES;

/** Buckets per doubling. */
const RESOLUTION = 4;

export interface HistogramSnapshot {
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  /** Sparse bucket counts by index (value v > 0 goes to ceil(log2(v) * 4); 0 and below to the key "z"). */
  buckets: Record<string, number>;
}

export interface MetricsSnapshot {
  /** Counters by `name` or `name:label`. */
  counters: Record<string, number>;
  histograms: Record<string, HistogramSnapshot>;
}

class Histogram {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  readonly buckets = new Map<string, number>();

  observe(value: number, times = 1): void {
    this.count += times;
    this.sum += value * times;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    const key = bucketOf(value);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + times);
  }

  merge(other: HistogramSnapshot): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    for (const [key, n] of Object.entries(other.buckets)) this.buckets.set(key, (this.buckets.get(key) ?? 0) + n);
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    const keys = [...this.buckets.keys()].sort((a, b) => bucketOrder(a) - bucketOrder(b));
    let seen = 0;
    for (const key of keys) {
      seen += this.buckets.get(key)!;
      // A bucket's upper bound, but never beyond what was actually seen.
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperBound(key)));
    }
    return this.max;
  }

  snapshot(): HistogramSnapshot {
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      count: this.count,
      sum: round(this.sum),
      min: this.count ? round(this.min) : 0,
      max: this.count ? round(this.max) : 0,
      p50: round(this.quantile(0.5)),
      p95: round(this.quantile(0.95)),
      p99: round(this.quantile(0.99)),
      buckets: Object.fromEntries(this.buckets),
    };
  }
}

function bucketOf(value: number): string {
  return value > 0 ? String(Math.ceil(Math.log2(value) * RESOLUTION)) : "z";
}

function bucketOrder(key: string): number {
  return key === "z" ? Number.NEGATIVE_INFINITY : Number(key);
}

function upperBound(key: string): number {
  return key === "z" ? 0 : 2 ** (Number(key) / RESOLUTION);
}

/** Where data points go: the Analytics Engine binding, or nowhere. */
export type MetricsSink = Pick<AnalyticsEngineDataset, "writeDataPoint"> | undefined;

export class Metrics {
  readonly #counters = new Map<string, number>();
  readonly #histograms = new Map<string, Histogram>();
  /** Something was recorded since the last `takeChanged()`: whoever saves the figures may skip a write. */
  #changed = false;

  constructor(
    /** The room id, or "worker". */
    readonly scope: string,
    private readonly sink: MetricsSink,
  ) {}

  /** Counts one event (or `n`) of a counter metric, under an optional label. */
  count(name: MetricName, label = "", n = 1): void {
    const key = label ? `${name}:${label}` : name;
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + n);
    this.#changed = true;
    this.#write(name, label, n);
  }

  /** Records one measurement of a histogram metric. */
  observe(name: MetricName, value: number, label = ""): void {
    if (!Number.isFinite(value)) return;
    let histogram = this.#histograms.get(name);
    if (!histogram) this.#histograms.set(name, (histogram = new Histogram()));
    histogram.observe(value);
    this.#changed = true;
    this.#write(name, label, value);
  }

  /** Whether anything was recorded since the last call. */
  takeChanged(): boolean {
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  snapshot(): MetricsSnapshot {
    const histograms: Record<string, HistogramSnapshot> = {};
    for (const [name, h] of this.#histograms) histograms[name] = h.snapshot();
    return { counters: Object.fromEntries(this.#counters), histograms };
  }

  /** Adds a saved snapshot's figures (a room restoring what it had before eviction). */
  restore(snapshot: MetricsSnapshot): void {
    for (const [key, n] of Object.entries(snapshot.counters)) this.#counters.set(key, (this.#counters.get(key) ?? 0) + n);
    for (const [name, h] of Object.entries(snapshot.histograms)) {
      let histogram = this.#histograms.get(name);
      if (!histogram) this.#histograms.set(name, (histogram = new Histogram()));
      histogram.merge(h);
    }
  }

  #write(name: MetricName, label: string, value: number): void {
    if (!this.sink) return;
    try {
      this.sink.writeDataPoint({ indexes: [this.scope.slice(0, 96)], blobs: [name, label, this.scope], doubles: [value] });
    } catch {
      // Analytics are best-effort: a full write budget must never fail a request.
    }
  }
}

/** Sums snapshots: counters add, histograms merge bucket by bucket, percentiles are recomputed. */
export function mergeSnapshots(snapshots: Iterable<MetricsSnapshot>): MetricsSnapshot {
  const merged = new Metrics("merged", undefined);
  for (const s of snapshots) merged.restore(s);
  return merged.snapshot();
}

/** The dataset binding, if the deployment has one (wrangler.toml may leave it out). */
export function metricsSink(env: Pick<Env, "METRICS">): MetricsSink {
  const binding: AnalyticsEngineDataset | undefined = env.METRICS;
  return typeof binding?.writeDataPoint === "function" ? binding : undefined;
}

/** The Worker's own figures: one set per isolate. */
let workerMetrics: Metrics | null = null;
export function workerMetricsOf(env: Pick<Env, "METRICS">): Metrics {
  workerMetrics ??= new Metrics("worker", metricsSink(env));
  return workerMetrics;
}
