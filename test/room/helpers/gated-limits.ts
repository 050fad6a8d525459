/**
 * A stand-in for a user's UserLimits object whose verdicts wait until the
 * test opens a gate, and a record of the frames the room took in: so a test
 * can hold a send "in flight" for exactly as long as it needs (no simulated
 * latency to outrun), and know when the frames behind it have reached the
 * room (a poll on `received`) before it lets the send go.
 */
import { runInDurableObject } from "cloudflare:test";
import type { Verdict } from "../../../src/protocol";
import type { Room } from "../../../src/room/room";
import { stubOf } from "./rooms";

export const allowed: Verdict = { allowed: true, limit: 100, remaining: 99, retryAfter: 0, reset: 1 };

export interface GatedLimits {
  /** The room's calls, by size: 1 for takeSend, n for takeSends(n). */
  readonly calls: number[];
  /** Every frame the room's onMessage has returned from (handled, or queued behind a waiting send). */
  readonly received: string[];
  /** Lets the waiting verdicts, and every later one, through. */
  open(): void;
}

/**
 * Installs the gate on the room's instance. With `batches: false` it offers
 * only takeSend (one call per send), as a user object without the batch call.
 * With `latencyMs`, every call also takes that long once the gate is open:
 * a slow object whose round trips a test can count by the time they take.
 */
export async function gatedUserLimits(room: string, opts: { batches?: boolean; latencyMs?: number } = {}): Promise<GatedLimits> {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const calls: number[] = [];
  const received: string[] = [];
  const latency = opts.latencyMs ?? 0;
  const passed = async () => {
    await gate;
    if (latency > 0) await new Promise<void>((resolve) => setTimeout(resolve, latency));
  };
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const takeSend = async () => {
      calls.push(1);
      await passed();
      return allowed;
    };
    const takeSends = async (n: number) => {
      calls.push(n);
      await passed();
      return Array.from({ length: n }, () => allowed);
    };
    instance.userLimitsOf = () => (opts.batches === false ? { takeSend } : { takeSend, takeSends });
    const onMessage = instance.onMessage.bind(instance);
    instance.onMessage = (connection, message) => {
      const handled = onMessage(connection, message);
      received.push(String(message));
      return handled;
    };
  });
  return { calls, received, open };
}
