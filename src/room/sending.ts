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
 * So a send is two steps of messages.ts around the RPC: `admitSend` before
 * it, `commitSend` after, which checks again synchronously what may have
 * changed meanwhile (other requests run in the room while the RPC is out).
 */
import { MAX_SENDS_PER_CALL, type Result, type SendMessageBody, type Verdict, ok } from "../protocol";
import { errorText, log } from "../ops/log";
import type { Metrics } from "../ops/metrics";
import { rateLimitedError } from "../kernel/token-bucket";
import { type Sent, admitSend, commitSend } from "./messages";
import type { RoomState } from "./state";

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
    /** The user's bucket; tests swap in a slow or failing one. */
    public bucketOf: (userId: string) => CrossRoomBucket,
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

/** The one send path, for HTTP and WebSocket sends alike. */
export async function sendThroughLimits(state: RoomState, userId: string, body: SendMessageBody, gate: CrossRoomGate): Promise<Result<Sent>> {
  const admitted = admitSend(state, userId, body);
  if (!admitted.ok) return admitted;
  if (admitted.value.duplicate) return ok({ message: admitted.value.duplicate, duplicate: true });
  const verdict = await gate.take(userId);
  if (verdict && !verdict.allowed) {
    state.sendBuckets.refund(userId);
    return { ok: false, error: rateLimitedError(`too many messages across your rooms: at most ${verdict.limit} a minute`, verdict) };
  }
  return commitSend(state, userId, body, admitted.value.head);
}

/** The room's send path with its metrics: what the HTTP route and the socket's frames both call. */
export class SendPath {
  readonly gate: CrossRoomGate;

  constructor(
    private readonly state: RoomState,
    private readonly metrics: Metrics,
    bucketOf: (userId: string) => CrossRoomBucket,
  ) {
    this.gate = new CrossRoomGate(state.roomId, bucketOf);
  }

  send(userId: string, body: SendMessageBody): Promise<Result<Sent>> {
    return sendThroughLimits(this.state, userId, body, this.gate);
  }

  /**
   * Metrics for an answered send: stored (code null) or refused. The time is
   * the room's own from receipt (`startedAt`) to answer; a Worker's clock moves
   * only on I/O, so it reads near 0 unless the room waited (the Worker's
   * http_ms and clients see the whole round trip). The refusal itself is
   * logged where it is answered: frames.ts for sockets, the Worker for HTTP.
   */
  answered(code: string | null, startedAt: number, transport: "ws" | "http"): void {
    if (code !== null) return this.metrics.count("messages_refused", code);
    this.metrics.count("messages_accepted");
    this.metrics.observe("send_ack_ms", this.state.clock.now() - startedAt, transport);
  }
}
