/**
 * Kicks and bans. A kick removes the user (they may join again); a ban also
 * keeps them out until an unban. Either closes their sockets at once. Who may
 * act on whom is policy.ts's `mayModerate`; a ban keeps the rank it was placed
 * with, and only that rank or a higher one lifts it (`mayUnban`).
 */
import { type Result, ok } from "../protocol";
import { removeMember } from "./membership";
import { type Actor, banRank, mayModerate, mayUnban, memberOrAdmin, outranks } from "./policy";
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
  const meta = state.meta.current!;
  // The owner is the room's creator (nobody else becomes one): gone from the room, still its owner.
  const targetRole = state.members.role(userId) ?? (userId === meta.createdBy && meta.kind === "group" ? "owner" : null);
  const refused = mayModerate(actor, mine.value, meta.kind, userId, targetRole);
  if (refused) return { ok: false, error: refused };
  const ban = action === "kick" ? null : state.members.banOf(userId);
  if (action === "unban" && ban) {
    const higher = mayUnban(actor, mine.value, ban.rank);
    if (higher) return { ok: false, error: higher };
  }
  const ts = state.log.now();
  const { roomId } = state;
  if (action === "unban") {
    state.members.unban(userId);
    state.index.audit(actor.userId, "user_unbanned", userId, null, ts);
    return ok({ roomId, userId, action: "unbanned" });
  }
  if (action === "ban") {
    // Banned again by a higher rank: the ban takes that rank. Never lowered by a lower one.
    const rank = banRank(actor, mine.value);
    if (!ban || outranks(rank, ban.rank)) state.members.ban(userId, actor.userId, rank, ts);
  }
  if (state.members.has(userId)) removeMember(state, userId);
  state.index.audit(actor.userId, action === "ban" ? "user_banned" : "user_kicked", userId, null, ts);
  return ok({ roomId, userId, action: action === "ban" ? "banned" : "kicked" });
}
