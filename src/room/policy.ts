/**
 * Who may do what in a room: the rules that need no storage. Each takes the
 * facts (the actor, their role, the room's kind, the target) and answers a
 * refusal, or null when the action is allowed. Callers read the facts; these
 * functions decide, so every rule has a plain unit test
 * (test/unit/room/policy.test.ts).
 */
import { type ErrorBody, type Result, type Role, type RoomKind, isWellFormedText, ok } from "../protocol";

/** Who is asking: a user, and whether their token makes them a deployment admin. */
export interface Actor {
  userId: string;
  admin?: boolean;
}

const refuse = (code: ErrorBody["code"], message: string): ErrorBody => ({ code, message });

const isModerator = (actor: Actor, role: Role | null) => actor.admin === true || role === "owner" || role === "admin";

/**
 * A member of the room (their role), or a deployment admin who is not a member
 * (null): admins act on rooms they do not belong to. Any other refusal (no
 * such room, a deleted room, a stranger) stands.
 */
export function memberOrAdmin(actor: Actor, standing: Result<Role>): Result<Role | null> {
  if (standing.ok) return standing;
  if (actor.admin === true && standing.error.code === "not_member") return ok(null);
  return standing;
}

/** Only the sender edits a message. */
export function mayEdit(actor: Actor, sender: string): ErrorBody | null {
  return sender === actor.userId ? null : refuse("forbidden", "only the sender may edit a message");
}

/** The sender deletes their own message; owners, admins and deployment admins any. */
export function mayDeleteMessage(actor: Actor, role: Role | null, sender: string): ErrorBody | null {
  if (sender === actor.userId || isModerator(actor, role)) return null;
  return refuse("forbidden", "only the sender, owners and admins may delete a message");
}

/** Either participant deletes a direct room; a group, its owners, admins and deployment admins. */
export function mayDeleteRoom(actor: Actor, role: Role | null, kind: RoomKind): ErrorBody | null {
  if (kind === "direct" || isModerator(actor, role)) return null;
  return refuse("forbidden", "only owners and admins may delete this room");
}

/**
 * The deleter, owners, admins and deployment admins restore a deleted room.
 * `role` is the actor's role whatever the room's state (a deleted room still
 * has its members until it is purged).
 */
export function mayRestore(actor: Actor, role: Role | null, deletedBy: string | null): ErrorBody | null {
  if (deletedBy === actor.userId || isModerator(actor, role)) return null;
  return refuse("forbidden", "only the deleter, owners and admins may restore this room");
}

/**
 * Owners act on anyone but themselves, room admins on plain members,
 * deployment admins on anyone; direct rooms have no moderators. `targetRole`:
 * the target's role, null if they are not a member (a ban of a stranger).
 */
export function mayModerate(actor: Actor, role: Role | null, kind: RoomKind, target: string, targetRole: Role | null): ErrorBody | null {
  if (kind === "direct") return refuse("forbidden", "direct rooms have no moderators");
  if (target === actor.userId) return refuse("invalid_request", "you cannot moderate yourself; leave the room instead");
  if (actor.admin === true) return null;
  const mine = role ?? "member";
  if (mine === "owner" || (mine === "admin" && (targetRole ?? "member") === "member")) return null;
  return refuse("forbidden", "only owners and admins may moderate, and admins only plain members");
}

/**
 * The rank a ban is placed with, kept with the ban: only an equal or higher
 * rank lifts it, so an admin cannot undo what an owner decided, even after
 * the owner left. Deployment admins rank above every role of the room.
 */
export type BanRank = "admin" | "owner" | "deployment";

const RANKS = { member: 0, admin: 1, owner: 2, deployment: 3 } as const;

const rankOf = (actor: Actor, role: Role | null): keyof typeof RANKS => (actor.admin === true ? "deployment" : (role ?? "member"));

/** The rank of a ban the actor places (mayModerate has let them). */
export function banRank(actor: Actor, role: Role | null): BanRank {
  const rank = rankOf(actor, role);
  return rank === "member" ? "admin" : rank;
}

/** Whether a ban placed again with `rank` replaces one with `current`: only to raise it. */
export function outranks(rank: BanRank, current: BanRank): boolean {
  return RANKS[rank] > RANKS[current];
}

/** A ban is lifted by its own rank or a higher one. */
export function mayUnban(actor: Actor, role: Role | null, bannedWith: BanRank): ErrorBody | null {
  if (RANKS[rankOf(actor, role)] >= RANKS[bannedWith]) return null;
  const who = bannedWith === "deployment" ? "a deployment admin" : `an ${bannedWith}`;
  return refuse("forbidden", `this ban was placed by ${who}; only ${who} or higher may lift it`);
}

/** Owners and deployment admins change roles; nobody changes the owner's. */
export function maySetRole(actor: Actor, role: Role | null, targetRole: Role): ErrorBody | null {
  if (actor.admin !== true && role !== "owner") return refuse("forbidden", "only owners may change roles");
  if (targetRole === "owner") return refuse("forbidden", "the owner's role cannot be changed");
  return null;
}

/** Owners, admins and deployment admins set the room's retention. */
export function maySetRetention(actor: Actor, role: Role | null): ErrorBody | null {
  return isModerator(actor, role) ? null : refuse("forbidden", "only owners and admins may change the room's retention");
}

const utf8 = new TextEncoder();

/** A message's content: not empty unless it has attachments, well-formed, at most `maxBytes` of UTF-8. */
export function checkContent(content: string, hasAttachments: boolean, maxBytes: number): ErrorBody | null {
  if (content.length === 0 && !hasAttachments) return refuse("invalid_request", "content must not be empty");
  if (!isWellFormedText(content)) return refuse("invalid_request", "content is not valid Unicode (lone surrogate)");
  // A UTF-16 length already over the limit is over it in UTF-8 too: skip the encode.
  if (content.length > maxBytes || utf8.encode(content).byteLength > maxBytes) {
    return refuse("content_too_large", `content is larger than ${maxBytes} bytes`);
  }
  return null;
}
