/**
 * Right to be forgotten (admins only, checked by the Worker): every message
 * of the user here becomes a tombstone (its content kept out of reach only
 * if a hold protects it) and the user is removed from the room, leaving no
 * sync-log row for them. Works on deleted rooms too.
 */
import { removeMember } from "./membership";
import { tombstone } from "./messages";
import type { RoomState } from "./state";

export function eraseUser(state: RoomState, adminId: string, userId: string): { messages: number } {
  if (!state.meta.current) return { messages: 0 };
  const messages = state.log.liveMessagesOf(userId);
  for (const message of messages) tombstone(state, message, adminId, "erased");
  if (state.members.has(userId)) removeMember(state, userId, true);
  state.index.audit(adminId, "user_erased", userId, `${messages.length} messages`, state.log.now());
  return { messages: messages.length };
}
