/**
 * A room's deletion and restore, and legal holds on it. Deletion is for
 * everyone: live sockets get the event and are closed, offline members learn
 * it from their sync log, and the content stays restorable for the undo
 * window before the purge job destroys it. The room orders a deletion against
 * sends: a message is stored before it (and deleted with it) or refused.
 */
import { type Result, type Role, fail, ok } from "../protocol";
import { type Actor, mayDeleteRoom, mayRestore, memberOrAdmin } from "./policy";
import type { RoomState } from "./state";

export function deleteRoom(state: RoomState, actor: Actor): Result<{ roomId: string; deleted: true; restorableUntil: string }> {
  const role = memberOrAdmin(actor, state.requireMember(actor.userId));
  if (!role.ok) return role;
  const meta = state.meta.current!;
  const refused = mayDeleteRoom(actor, role.value, meta.kind);
  if (refused) return { ok: false, error: refused };
  const { roomId } = state;
  const ts = state.log.now();
  const restorableUntil = ts + state.limits.undoWindowMs;
  const event = state.log.appendNotice("room_deleted", actor.userId, { restorableUntil });
  state.meta.patch({ deletedTs: ts, deletedBy: actor.userId, restorableUntil });
  state.index.put(`room_state:${event.seq}`, { op: "room_state", roomId, type: "room_deleted", seq: event.seq, ts });
  state.index.put(`inbox:state:${event.seq}`, { op: "inbox", roomId, kind: "deleted", seq: event.seq, userId: null });
  state.index.audit(actor.userId, "room_deleted", null, null, ts);
  state.index.touch(event.seq, ts, false);
  state.feed.publish(event);
  state.feed.closeAll();
  state.wake.at(restorableUntil);
  return ok({ roomId, deleted: true, restorableUntil: new Date(restorableUntil).toISOString() });
}

/** Undoes a deletion inside the window: the deleter, owners, admins, deployment admins. */
export function restoreRoom(state: RoomState, actor: Actor): Result<{ roomId: string; restored: true }> {
  const { roomId } = state;
  const meta = state.meta.current;
  if (!meta) return fail("room_not_found", `room ${roomId} does not exist`);
  // Who may is decided first, so that nobody else learns anything from the answer.
  const role = (state.members.get(actor.userId)?.role as Role | undefined) ?? null;
  const refused = mayRestore(actor, role, meta.deletedBy);
  if (refused) return { ok: false, error: refused };
  if (meta.deletedTs === null) return ok({ roomId, restored: true });
  if (meta.purged || (meta.restorableUntil ?? 0) <= state.clock.now()) {
    return fail("room_deleted", `room ${roomId} was deleted and can no longer be restored`);
  }
  const ts = state.log.now();
  state.meta.patch({ deletedTs: null, deletedBy: null, restorableUntil: null });
  const event = state.log.appendNotice("room_restored", actor.userId, {});
  state.index.put(`room_state:${event.seq}`, { op: "room_state", roomId, type: "room_restored", seq: event.seq, ts });
  state.index.put(`inbox:state:${event.seq}`, { op: "inbox", roomId, kind: "restored", seq: event.seq, userId: null });
  state.index.audit(actor.userId, "room_restored", null, null, ts);
  state.index.touch(event.seq, ts, false);
  state.feed.publish(event);
  return ok({ roomId, restored: true });
}

/**
 * A legal hold on the room (admins only, checked by the Worker): nothing of
 * its content is destroyed while it is set. The hold itself is audited where
 * it is recorded (D1, with its id); the room only obeys it.
 */
export function setHold(state: RoomState, held: boolean): Result<{ roomId: string; held: boolean }> {
  if (!state.meta.current) return fail("room_not_found", `room ${state.roomId} does not exist`);
  state.meta.patch({ held });
  // Released: what it kept may go now.
  if (!held) state.wake.at(state.clock.now());
  return ok({ roomId: state.roomId, held });
}
