/** The reconnect and retry delays: exponential up to a cap, with full jitter in the upper half. */
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/client/backoff";

const caps = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000];

describe("backoffDelay", () => {
  it("stays within [cap/2, cap), the cap doubling per attempt up to 5 s", () => {
    caps.forEach((cap, attempt) => {
      expect(backoffDelay(attempt, 250, 5000, () => 0)).toBe(cap / 2);
      const high = backoffDelay(attempt, 250, 5000, () => 0.999_999);
      expect(high).toBeLessThan(cap);
      expect(high).toBeGreaterThan(cap * 0.99);
    });
    // Far attempts neither overflow nor exceed the cap.
    expect(backoffDelay(1_000, 250, 5000, () => 0.5)).toBe(3750);
  });

  it("jitters: clients retrying at the same attempt spread over the whole range", () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(3));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThan(2000);
    }
    expect(new Set(delays).size).toBeGreaterThan(150);
    expect(Math.min(...delays)).toBeLessThan(1250);
    expect(Math.max(...delays)).toBeGreaterThan(1750);
  });
});
