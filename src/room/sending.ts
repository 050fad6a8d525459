/**
 * The one send path, for HTTP and WebSocket sends alike. A send passes two
 * buckets: the user's in this room (exact here, free) and the user's across
 * all rooms (USER_SEND_PER_MINUTE, exact only in one place: the user's
 * UserLimits object, one RPC away).
 *
 * Why an exact count rather than leasing a batch of tokens to each room: a
 * lease would hold tokens in every room the user sends in, so ten rooms
 * leasing ten tokens each would spend the whole minute's budget on ten
 * messages, or need returns and expiries to fix that. The RPC is one call to
 * an object that lives where the user is active (sends that come while one
 * is out share the next, `CrossRoomGate`), made only once the message
 * has passed every check of the room (a refusal here, or a retry of a stored
 * message, costs nothing), and a flooder is stopped by the room's own bucket
 * before it reaches the user's object.
 *
 * While the RPC is out other requests run in the room, so the store itself
 * goes back through `core.send`, which checks again synchronously what may
 * have changed meanwhile (membership, the room's state, a clientId stored
 * since the admission: from memory, see `EventLog.findByClientIdSince`).
 */
import { type Message, type Result, type SendMessageBody, ok } from "../protocol";
import { errorText, log } from "../ops/log";
import type { RoomCore } from "./core";
import { MAX_SENDS_PER_CALL, type Verdict } from "../protocol";
import { rateLimitedError } from "../kernel/token-bucket";

/** The user's cross-room bucket (their UserLimits object). */
export interface CrossRoomBucket {
  takeSend(): Promise<Verdict> | Verdict;
  /** `n` sends at once, one token each, in order. */
  takeSends?(n: number): Promise<Verdict[]> | Verdict[];
}

/**
 * The room's door to its users' cross-room buckets. A user's first send goes
 * at once; sends of theirs that arrive while that RPC is out wait for it and
 * then go together, as one RPC that takes a token for each, in order. Still
 * exact, and one RPC per round trip per user and room however fast the
 * sends come (a client flushing its offline queue; a benchmark's sender).
 * `null`: the user's object was out of reach, and the send goes on under the
 * room's own limit.
 */

export class CrossRoomGate {
  /** Users with an RPC out, and the sends waiting for the next one. */
  #waiting = new Map<string, Array<(verdict: Verdict | null) => void>>();

  constructor(
    private readonly roomId: string,
    private readonly bucketOf: (userId: string) => CrossRoomBucket,
  ) {}

  take(userId: string): Promise<Verdict | null> {
    return new Promise((resolve) => {
      const waiting = this.#waiting.get(userId);
      if (waiting) return void waiting.push(resolve);
      this.#waiting.set(userId, []);
      void this.#run(userId, [resolve]);
    });
  }

  async #run(userId: string, batch: Array<(verdict: Verdict | null) => void>): Promise<void> {
    for (;;) {
      let verdicts: Array<Verdict | null>;
      try {
        const bucket = this.bucketOf(userId);
        verdicts = batch.length > 1 && bucket.takeSends ? await bucket.takeSends(batch.length) : await Promise.all(batch.map(() => bucket.takeSend()));
      } catch (error) {
        log("warn", "user_limits_unavailable", { room: this.roomId, op: "take_send", error: errorText(error) });
        verdicts = [];
      }
      batch.forEach((resolve, i) => resolve(verdicts[i] ?? null));
      const next = this.#waiting.get(userId) ?? [];
      if (next.length === 0) return void this.#waiting.delete(userId);
      // The rest (rare: more than a call's worth arrived meanwhile) waits for the next call.
      batch = next.splice(0, MAX_SENDS_PER_CALL);
      this.#waiting.set(userId, next);
    }
  }
}

export async function sendThroughLimits(
  core: RoomCore,
  userId: string,
  body: SendMessageBody,
  gate: CrossRoomGate,
): Promise<Result<{ message: Message; duplicate: boolean }>> {
  const admitted = core.admitSend(userId, body);
  if (!admitted.ok) return admitted;
  if (admitted.value.duplicate) return ok({ message: admitted.value.duplicate, duplicate: true });
  const verdict = await gate.take(userId);
  if (verdict && !verdict.allowed) {
    core.sendBuckets.refund(userId);
    return { ok: false, error: rateLimitedError(`too many messages across your rooms: at most ${verdict.limit} a minute`, verdict) };
  }
  return core.send(userId, body, { admittedAt: admitted.value.head });
}
