/**
 * Typing notices: passed on to the other members' live sockets, never
 * stored. At most one per user per TYPING_MIN_INTERVAL_MS goes out; clients
 * expire a notice after TYPING_TTL_MS without a refresh. Users who hide their
 * presence send none.
 */
import type { ErrorBody } from "../protocol";
import { EPHEMERAL_DROP_LAG, type LiveSockets } from "./connections";
import type { RoomState } from "./state";

const TYPING_TTL_MS = 10_000;
const TYPING_MIN_INTERVAL_MS = 2_000;

export class Typing {
  /** Last notice passed on per user: in memory only, as typing itself is. */
  #typingAt = new Map<string, number>();

  constructor(
    private readonly state: RoomState,
    private readonly sockets: LiveSockets,
  ) {}

  notice(userId: string): ErrorBody | null {
    const { state } = this;
    const member = state.requireMember(userId);
    if (!member.ok) return member.error;
    const now = state.clock.now();
    // Extra notices inside the interval change nothing for others.
    if (now - (this.#typingAt.get(userId) ?? 0) < TYPING_MIN_INTERVAL_MS) return null;
    this.#typingAt.set(userId, now);
    // Typing shows someone is here now: a user who hides their presence hides it too.
    // Accepted all the same, so the sender learns nothing they did not know.
    if (state.members.get(userId)?.presence_hidden === 1) return null;
    const frame = { type: "typing", roomId: state.roomId, userId, expiresTs: new Date(now + TYPING_TTL_MS).toISOString() } as const;
    this.sockets.broadcastEphemeral(frame, state.log.head, { exceptUser: userId, dropLag: EPHEMERAL_DROP_LAG });
    return null;
  }
}
