/** The room's one alarm (src/room/scheduler.ts) against a fake storage. */
import { describe, expect, it } from "vitest";
import { AlarmScheduler, FAILED_JOB_RETRY_MS, type AlarmJob } from "../../../src/room/scheduler";

function fakeStorage() {
  const sets: number[] = [];
  return { sets, storage: { getAlarm: async () => null, setAlarm: async (t: number) => void sets.push(t) } };
}

const job = (name: string, run: AlarmJob["run"]): AlarmJob => ({ name, run });

describe("AlarmScheduler", () => {
  it("keeps the alarm at the earliest time asked for", () => {
    const { sets, storage } = fakeStorage();
    const scheduler = new AlarmScheduler(storage, "r");
    scheduler.at(500);
    scheduler.at(900);
    scheduler.at(300);
    expect(sets).toEqual([500, 300]);
  });

  it("runs the jobs in order and sets the alarm to the earliest next time any returns", async () => {
    const { sets, storage } = fakeStorage();
    const scheduler = new AlarmScheduler(storage, "r");
    const ran: string[] = [];
    await scheduler.run(
      [
        job("a", () => (ran.push("a"), 2_000)),
        job("b", async () => (ran.push("b"), null)),
        job("c", () => (ran.push("c"), 1_500)),
      ],
      () => 1_000,
    );
    expect(ran).toEqual(["a", "b", "c"]);
    expect(sets).toEqual([2_000, 1_500]);
  });

  it("a job that throws does not stop the ones after it, and is tried again soon", async () => {
    const { sets, storage } = fakeStorage();
    const scheduler = new AlarmScheduler(storage, "r");
    const ran: string[] = [];
    await scheduler.run(
      [
        job("purge", () => {
          throw new Error("boom");
        }),
        job("outbox", async () => (ran.push("outbox"), null)),
      ],
      () => 1_000,
    );
    expect(ran).toEqual(["outbox"]);
    expect(sets).toEqual([1_000 + FAILED_JOB_RETRY_MS]);
  });

  it("forgets the stored alarm when it runs, so any time asked for afterwards is set", async () => {
    const { sets, storage } = fakeStorage();
    const scheduler = new AlarmScheduler(storage, "r");
    scheduler.at(100);
    await scheduler.run([], () => 100);
    scheduler.at(5_000);
    expect(sets).toEqual([100, 5_000]);
  });
});
