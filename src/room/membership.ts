/**
 * Joining and leaving: creating a group or a direct room, joins, leaves and
 * roles. Every change appends its event, records it for the index and
 * members' inboxes, and reaches live sockets through the feed.
 */
import { DIRECT_ROOM_PREFIX, type PrivacySettings, type Result, type Role, type RoomKind, fail, ok } from "../protocol";
import { type Actor, maySetRole, memberOrAdmin } from "./policy";
import type { RoomState } from "./state";
import { errorText, log } from "../ops/log";

/**
 * The erasure's hook (src/user/memberships.ts): before a join, a creation or
 * a direct room's opening is answered, the room is written into each new
 * member's own record, so an erasure finds a room joined a second ago (the
 * D1 index lags by seconds). A record that cannot be written is logged and
 * left to the D1 index, which the erasure also asks.
 */
export async function recorded<T>(result: Result<T>, userIds: readonly string[], record: (userId: string) => Promise<void>): Promise<Result<T>> {
  if (result.ok) await Promise.all(userIds.map((userId) => record(userId).catch((error: unknown) => log("warn", "inbox_notify_failed", { op: "record_membership", user: userId, error: errorText(error) }))));
  return result;
}

export function create(state: RoomState, userId: string, privacy?: PrivacySettings): Result<{ roomId: string; kind: RoomKind; role: Role }> {
  const { roomId } = state;
  if (roomId.startsWith(DIRECT_ROOM_PREFIX)) {
    return fail("invalid_request", `room ids starting with "${DIRECT_ROOM_PREFIX}" are reserved for direct rooms`);
  }
  const meta = state.meta.current;
  if (meta?.deletedTs != null) return fail("room_deleted", `room ${roomId} was deleted; its id cannot be reused`);
  if (meta) return fail("room_exists", `room ${roomId} already exists`);
  state.meta.initialise("group", userId, state.clock.now());
  addMember(state, userId, "owner", privacy);
  return ok({ roomId, kind: "group", role: "owner" });
}

/** Creates the direct room of two users on first use; either side gets the same room. */
export function openDirect(
  state: RoomState,
  userId: string,
  otherId: string,
  privacy?: Record<string, PrivacySettings>,
): Result<{ roomId: string; kind: "direct"; members: string[] }> {
  const meta = state.meta.current;
  // A direct room's id is fixed per pair: once a deleted one is purged, the pair may start afresh
  // (a new epoch tells any old client position that it means nothing now).
  if (!meta || (meta.kind === "direct" && meta.purged)) {
    state.meta.initialise("direct", userId, state.clock.now());
    for (const id of [userId, otherId].sort()) addMember(state, id, "member", privacy?.[id]);
  }
  const room = state.requireRoom();
  if (!room.ok) return room;
  if (room.value.kind !== "direct") return fail("forbidden", "not a direct room");
  const members = state.members.list().map((m) => m.user_id);
  if (!members.includes(userId)) return fail("forbidden", "this direct room belongs to other users");
  return ok({ roomId: state.roomId, kind: "direct", members: [...members].sort() });
}

export function join(state: RoomState, userId: string, privacy?: PrivacySettings): Result<{ roomId: string; joined: boolean }> {
  const room = state.requireRoom();
  if (!room.ok) return room;
  if (state.members.has(userId)) return ok({ roomId: state.roomId, joined: false });
  if (room.value.kind === "direct") return fail("forbidden", "nobody else may join a direct room");
  if (state.members.isBanned(userId)) return fail("forbidden", "you are banned from this room");
  const max = state.limits.maxMembers;
  if (state.members.count() >= max) return fail("forbidden", `this room is full (${max} members)`);
  addMember(state, userId, "member", privacy);
  return ok({ roomId: state.roomId, joined: true });
}

export function leave(state: RoomState, userId: string): Result<{ roomId: string; left: boolean }> {
  const room = state.requireRoom();
  if (!room.ok) return room;
  if (!state.members.has(userId)) return ok({ roomId: state.roomId, left: false });
  if (room.value.kind === "direct") return fail("forbidden", "a direct room cannot be left; delete it instead");
  removeMember(state, userId);
  return ok({ roomId: state.roomId, left: true });
}

/** Owners (and deployment admins) make members admins or plain members again. */
export function setRole(
  state: RoomState,
  actor: Actor,
  userId: string,
  role: "admin" | "member",
): Result<{ roomId: string; userId: string; action: "role_changed"; role: Role }> {
  const mine = memberOrAdmin(actor, state.requireMember(actor.userId));
  if (!mine.ok) return mine;
  const target = state.members.get(userId);
  // Asked first, so a stranger to the rule learns nothing of who is a member.
  const refused = maySetRole(actor, mine.value, (target?.role as Role | undefined) ?? "member");
  if (refused) return { ok: false, error: refused };
  if (!target) return fail("not_member", `${userId} is not a member of ${state.roomId}`);
  state.members.setRole(userId, role);
  state.index.put(`member:${userId}`, { op: "member", roomId: state.roomId, userId, role, joinedTs: target.joined_ts, seq: state.log.head });
  state.index.audit(actor.userId, "role_changed", userId, role, state.log.now());
  state.index.flushSoon();
  return ok({ roomId: state.roomId, userId, action: "role_changed", role });
}

/** Members in join order, as the API lists them. */
export function memberList(state: RoomState): Array<{ userId: string; role: Role; joinedTs: string }> {
  return state.members.list().map((m) => ({ userId: m.user_id, role: m.role as Role, joinedTs: new Date(m.joined_ts).toISOString() }));
}

export function addMember(state: RoomState, userId: string, role: Role, privacy?: PrivacySettings): void {
  const { roomId } = state;
  const event = state.log.appendMembership("member_joined", userId, role);
  const ts = Date.parse(event.ts);
  state.members.add(userId, role, ts, event.seq, privacy);
  state.index.put(`member:${userId}`, { op: "member", roomId, userId, role, joinedTs: ts, seq: event.seq });
  state.index.put(`inbox:member:${userId}`, { op: "inbox", roomId, kind: "joined", seq: event.seq, userId });
  state.index.touch(event.seq, ts, false);
  state.feed.publish(event);
}

/** `silent`: an erasure, which must not leave a sync-log row behind for the erased user. */
export function removeMember(state: RoomState, userId: string, silent = false): void {
  const { roomId } = state;
  state.members.remove(userId);
  const event = state.log.appendMembership("member_left", userId);
  const ts = Date.parse(event.ts);
  state.index.put(`member:${userId}`, { op: "member_removed", roomId, userId, seq: event.seq, ts, silent });
  state.index.put(`inbox:member:${userId}`, { op: "inbox", roomId, kind: "left", seq: event.seq, userId });
  state.index.touch(event.seq, ts, false);
  state.feed.revoke(userId);
  state.feed.publish(event);
}
