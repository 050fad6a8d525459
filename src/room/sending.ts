/**
 * The one send path, for HTTP and WebSocket sends alike. A send passes two
 * buckets: the user's in this room (exact here, free) and the user's across
 * all rooms (USER_SEND_PER_MINUTE, exact only in one place: the user's
 * UserLimits object, one RPC away).
 *
 * Why one RPC per send rather than leasing a batch of tokens to each room: a
 * lease would hold tokens in every room the user sends in, so ten rooms
 * leasing ten tokens each would spend the whole minute's budget on ten
 * messages, or need returns and expiries to fix that. The RPC is one call to
 * an object that lives where the user is active, made only once the message
 * has passed every check of the room (a refusal here, or a retry of a stored
 * message, costs nothing), and a flooder is stopped by the room's own bucket
 * before it reaches the user's object.
 *
 * While the RPC is out other requests run in the room, so the store itself
 * goes back through `core.send`, which checks everything again synchronously
 * (membership, a clientId stored meanwhile, the room's state).
 */
import { type Message, type Result, type SendMessageBody, ok } from "../protocol";
import { errorText, log } from "../ops/log";
import type { RoomCore } from "./core";
import { type Verdict, rateLimitedError } from "./rate-limit";

/** The user's cross-room bucket (their UserLimits object). */
export interface CrossRoomBucket {
  takeSend(): Promise<Verdict> | Verdict;
}

export async function sendThroughLimits(
  core: RoomCore,
  userId: string,
  body: SendMessageBody,
  bucketOf: (userId: string) => CrossRoomBucket,
): Promise<Result<{ message: Message; duplicate: boolean }>> {
  const admitted = core.admitSend(userId, body);
  if (!admitted.ok) return admitted;
  if (admitted.value.duplicate) return ok({ message: admitted.value.duplicate, duplicate: true });
  let verdict: Verdict | null = null;
  try {
    verdict = await bucketOf(userId).takeSend();
  } catch (error) {
    // The per-user object is out of reach: sending stays up, under the room's own limit.
    log("warn", "user_limits_unavailable", { room: core.roomId, op: "take_send", error: errorText(error) });
  }
  if (verdict && !verdict.allowed) {
    core.sendBuckets.refund(userId);
    return { ok: false, error: rateLimitedError(`too many messages across your rooms: at most ${verdict.limit} a minute`, verdict) };
  }
  return core.send(userId, body, { charged: true });
}
