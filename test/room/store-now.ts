/**
 * For tests that fill a room from inside its object: a send's admission and
 * commit with nothing between them (no cross-room bucket to ask), so a loop
 * stores hundreds of messages synchronously. Every real send goes through
 * sendThroughLimits (src/room/sending.ts).
 */
import type { Result, SendMessageBody } from "../../src/protocol";
import { type Sent, admitSend, commitSend } from "../../src/room/messages";
import type { RoomState } from "../../src/room/state";

export function storeNow(state: RoomState, userId: string, body: SendMessageBody): Result<Sent> {
  const admitted = admitSend(state, userId, body);
  if (!admitted.ok) return admitted;
  if (admitted.value.duplicate) return { ok: true, value: { message: admitted.value.duplicate, duplicate: true } };
  return commitSend(state, userId, body, admitted.value.head);
}
