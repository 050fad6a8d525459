/** A socket's frames are answered in order, even behind a send that waits; a pile-up is refused. */
import { describe, expect, it } from "vitest";
import { FrameQueues } from "../../src/room/frame-queue";

/** A promise the test settles: the slow handler's work, finished when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets pending promise callbacks run (a macrotask turn) until `done` holds, or fails after `ms`. */
async function until(done: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

describe("FrameQueues", () => {
  it("runs frames at once while nothing waits, queues them behind one that does, and reports errors", async () => {
    const queues = new FrameQueues();
    const done: string[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    queues.run("a", () => void done.push("sync-1"), 5, onError);
    expect(done).toEqual(["sync-1"]);
    const slow = gate();
    queues.run("a", () => slow.promise.then(() => void done.push("slow")), 5, onError);
    queues.run("a", () => void done.push("after-slow"), 5, onError);
    queues.run("a", () => {
      throw new Error("boom");
    }, 5, onError);
    queues.run("b", () => void done.push("other socket"), 5, onError);
    expect(done).toEqual(["sync-1", "other socket"]);
    slow.open();
    await until(() => errors.length > 0);
    expect(done).toEqual(["sync-1", "other socket", "slow", "after-slow"]);
    expect(errors.map(String)).toEqual(["Error: boom"]);
    // The queue is gone: the next frame runs at once again.
    queues.run("a", () => void done.push("sync-2"), 5, onError);
    expect(done.at(-1)).toBe("sync-2");
  });

  it("refuses more waiting frames than allowed", () => {
    const queues = new FrameQueues();
    const accepted = [queues.run("a", () => gate().promise, 2, () => undefined)];
    for (let i = 0; i < 3; i++) accepted.push(queues.run("a", () => undefined, 2, () => undefined));
    expect(accepted).toEqual([true, true, true, false]);
  });
});
