/** The metrics module (plain Node): percentiles, merging, and the Analytics Engine data point layout. */
import { describe, expect, it } from "vitest";
import { Metrics, mergeSnapshots } from "../../../src/ops/metrics";

function sink() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (p?: AnalyticsEngineDataPoint) => void points.push(p!) };
}

describe("metrics", () => {
  it("writes one data point per observation in the documented layout", () => {
    const s = sink();
    const m = new Metrics("room-1", s);
    m.count("messages_refused", "rate_limited");
    m.observe("send_ack_ms", 12.5, "ws");
    expect(s.points).toEqual([
      { indexes: ["room-1"], blobs: ["messages_refused", "rate_limited", "room-1"], doubles: [1] },
      { indexes: ["room-1"], blobs: ["send_ack_ms", "ws", "room-1"], doubles: [12.5] },
    ]);
  });

  it("never fails the caller when the dataset refuses a write, and works without one", () => {
    const m = new Metrics("worker", {
      writeDataPoint: () => {
        throw new Error("too many data points");
      },
    });
    m.count("http_requests", "200");
    const bare = new Metrics("worker", undefined);
    bare.count("http_requests", "200", 2);
    expect(m.snapshot().counters).toEqual({ "http_requests:200": 1 });
    expect(bare.snapshot().counters).toEqual({ "http_requests:200": 2 });
  });

  it("gives p50/p95/p99 within a bucket of the truth, and merges across instances", () => {
    const a = new Metrics("a", undefined);
    const b = new Metrics("b", undefined);
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).observe("fanout", i);
    const merged = mergeSnapshots([a.snapshot(), b.snapshot()]).histograms.fanout!;
    expect(merged).toMatchObject({ count: 100, min: 1, max: 100, sum: 5050 });
    // Four buckets per doubling: within 19% above the true value.
    expect(merged.p50).toBeGreaterThanOrEqual(50);
    expect(merged.p50).toBeLessThanOrEqual(50 * 1.19);
    expect(merged.p95).toBeGreaterThanOrEqual(95);
    expect(merged.p99).toBeGreaterThanOrEqual(99);
    expect(merged.p99).toBeLessThanOrEqual(100);
  });
});
