/**
 * The one retry helper (sends, upload parts, completing an upload): bounded
 * attempts where asked, permanent and final errors end it at once, a
 * Retry-After is honoured, an abort while waiting rejects with `cancelled`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatError } from "../../src/client";
import { withRetries } from "../../src/client/retry";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const failing = (...errors: ChatError[]) => {
  let calls = 0;
  const attempt = vi.fn(async () => {
    const error = errors[Math.min(calls++, errors.length - 1)];
    if (error) throw error;
    return "ok";
  });
  return attempt;
};

describe("withRetries", () => {
  it("gives up after `attempts`, with the last error", async () => {
    const attempt = failing(new ChatError("internal", "boom", 500));
    const result = withRetries(attempt, { attempts: 3, cancelledMessage: "x" }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ code: "internal" });
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it("ends at once on a permanent error or one the caller calls final", async () => {
    const permanent = failing(new ChatError("forbidden", "no", 403));
    await expect(withRetries(permanent, { cancelledMessage: "x" })).rejects.toMatchObject({ code: "forbidden" });
    expect(permanent).toHaveBeenCalledTimes(1);
    const gone = failing(new ChatError("not_found", "no such upload", 404));
    await expect(withRetries(gone, { cancelledMessage: "x", isFinal: (e) => e.code === "not_found" })).rejects.toMatchObject({ code: "not_found" });
    expect(gone).toHaveBeenCalledTimes(1);
  });

  it("waits Retry-After seconds before the next attempt", async () => {
    const attempt = vi.fn(async () => "ok");
    attempt.mockRejectedValueOnce(new ChatError("rate_limited", "slow down", 429, 2));
    const result = withRetries(attempt, { cancelledMessage: "x" });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(attempt).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe("ok");
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  it("an abort while waiting rejects with cancelled and the caller's message", async () => {
    const controller = new AbortController();
    const attempt = failing(new ChatError("network_error", "offline"));
    const result = withRetries(attempt, { signal: controller.signal, cancelledMessage: "upload was cancelled" }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    expect(await result).toMatchObject({ code: "cancelled", message: "upload was cancelled" });
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});
