/**
 * Right to be forgotten (admins only, checked by the Worker; driven step by
 * step from the user's side, src/user/erasure.ts): every message of the user
 * here becomes a tombstone (its content kept out of reach only if a hold
 * protects it), the user is removed from the room leaving no sync-log row,
 * and what else names them (membership events, bans they got or placed) is
 * given the erasure's pseudonym, and so are their uploads unless a legal
 * hold covers them (the purge finds a held user's media by uploader). Works
 * on deleted rooms too.
 *
 * What the room has not yet written to D1 is fixed here, at the source, not
 * by a last account pass after every room's outbox drains (a room whose D1
 * writes keep failing would hold the erasure open for ever): the outbox's
 * pending rows that name the user are rewritten (Outbox.forgetUser) so that
 * audit rows carry the pseudonym and their membership rows only delete, so
 * whenever they flush, before or after the account step, none brings the
 * user back.
 *
 * One call does at most `limit` messages, so a heavy user's erasure is many
 * short calls (`done: false` until the last), never one that can run out of
 * time half-way; every call is safe to repeat.
 */
import { removeMember } from "./membership";
import { tombstone } from "./messages";
import type { RoomState } from "./state";

/** Messages one call tombstones at most. */
export const ERASE_MESSAGES_PER_CALL = 500;

export interface ErasureOptions {
  /** What the user's id becomes where a record must stay (membership events, bans). */
  pseudonym?: string;
  limit?: number;
  /** A legal hold covers the user: their uploads keep the real id, which the purge looks holds up by. */
  held?: boolean;
}

export function eraseUser(state: RoomState, adminId: string, userId: string, options: ErasureOptions = {}): { messages: number; done: boolean } {
  if (!state.meta.current) return { messages: 0, done: true };
  const limit = Math.max(1, options.limit ?? ERASE_MESSAGES_PER_CALL);
  const messages = state.log.liveMessagesOf(userId, limit);
  for (const message of messages) tombstone(state, message, adminId, "erased");
  if (messages.length === limit) return { messages: messages.length, done: false };
  if (state.members.has(userId)) removeMember(state, userId, true);
  if (options.pseudonym) {
    state.log.renameActor(userId, options.pseudonym);
    state.members.forgetBans(userId, options.pseudonym);
    if (!options.held) state.media.renameUploader(userId, options.pseudonym);
  }
  // Rows still waiting for D1 would otherwise bring the user back after the account step.
  state.outbox.forgetUser(userId, options.pseudonym);
  // The room's own entry names the pseudonym: the deployment's erasure entry is the one that names the user.
  state.index.audit(adminId, "user_erased", options.pseudonym ?? userId, `${messages.length} messages`, state.log.now());
  return { messages: messages.length, done: true };
}
