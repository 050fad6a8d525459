/** The push consumer's retry backoff: doubling per attempt, capped at five minutes. */
import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "../../../src/push/consumer";

describe("retryDelaySeconds", () => {
  it("doubles with each attempt", () => {
    expect([0, 1, 2, 3, 4, 5].map(retryDelaySeconds)).toEqual([1, 2, 4, 8, 16, 32]);
  });

  it("never waits more than 300 s", () => {
    expect(retryDelaySeconds(9)).toBe(300);
    expect(retryDelaySeconds(50)).toBe(300);
  });
});
