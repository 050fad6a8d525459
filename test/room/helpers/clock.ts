/**
 * A ManualClock installed on a room, UserLimits or Inbox object, so a test
 * crosses a window (refill, undo, grace, expiry) by moving it instead of
 * sleeping. Alarms still fire by the runtime's clock: run them with
 * `runDurableObjectAlarm` once the clock has moved.
 *
 * The clock starts at the real time now and stands still until moved: keep
 * its moves below the heartbeat timeout (75 s) while sockets are open, or the
 * next alarm takes them for dead.
 */
import { runInDurableObject } from "cloudflare:test";
import { ManualClock } from "../../../src/kernel/clock";
import type { Room } from "../../../src/room/room";
import type { Inbox } from "../../../src/user/inbox";
import type { UserLimits } from "../../../src/user/limits";

export async function manualClockOn<O extends Room | UserLimits | Inbox>(stub: DurableObjectStub<O>): Promise<ManualClock> {
  const clock = new ManualClock();
  await runInDurableObject<O, void>(stub, (instance: O) => {
    instance.clock = clock;
  });
  return clock;
}
