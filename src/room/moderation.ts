/**
 * Kicks and bans. A kick removes the user (they may join again); a ban also
 * keeps them out until an unban. Either closes their sockets at once. Who may
 * act on whom is policy.ts's `mayModerate`.
 */
import { type Result, type Role, ok } from "../protocol";
import { removeMember } from "./membership";
import { type Actor, mayModerate, memberOrAdmin } from "./policy";
import type { RoomState } from "./state";

export type ModerationAction = "kick" | "ban" | "unban";

export function moderate(
  state: RoomState,
  actor: Actor,
  userId: string,
  action: ModerationAction,
): Result<{ roomId: string; userId: string; action: "kicked" | "banned" | "unbanned" }> {
  const mine = memberOrAdmin(actor, state.requireMember(actor.userId));
  if (!mine.ok) return mine;
  const targetRole = (state.members.get(userId)?.role as Role | undefined) ?? null;
  const refused = mayModerate(actor, mine.value, state.meta.current!.kind, userId, targetRole);
  if (refused) return { ok: false, error: refused };
  const ts = state.log.now();
  const { roomId } = state;
  if (action === "unban") {
    state.members.unban(userId);
    state.index.audit(actor.userId, "user_unbanned", userId, null, ts);
    return ok({ roomId, userId, action: "unbanned" });
  }
  if (action === "ban") state.members.ban(userId, actor.userId, ts);
  if (state.members.has(userId)) removeMember(state, userId);
  state.index.audit(actor.userId, action === "ban" ? "user_banned" : "user_kicked", userId, null, ts);
  return ok({ roomId, userId, action: action === "ban" ? "banned" : "kicked" });
}
