/** Frames of the inbox socket: the state of every room of one user, and notices as it changes. */
import { z } from "zod";
import { RoomId, Timestamp } from "./ids";
import { LastMessage } from "./http";

/**
 * The inbox socket: one per device, across all of the user's rooms (a per-user
 * Durable Object owns it). It carries notices, not events: each one is the
 * latest state of one room for this user, so a repeated or skipped notice
 * does no harm; the next one (or `listRooms`) is complete on its own.
 */
export const InboxKind = z.enum(["activity", "read", "joined", "left", "deleted", "restored"]);
export type InboxKind = z.infer<typeof InboxKind>;

/** One room as the user's inbox knows it. */
export const InboxRoom = z.object({
  roomId: RoomId,
  /** The room's seq this state was taken at; notices for a room only move forward. */
  seq: z.number().int(),
  /** "left" and "deleted" rooms are kept so a late notice cannot bring them back. */
  state: z.enum(["member", "left", "deleted"]),
  /** Absent for rooms above the large-room threshold (no fan-out: ask `listRooms`). */
  unreadCount: z.number().int().min(0).optional(),
  lastMessage: LastMessage.nullable().optional(),
  lastActivityTs: Timestamp.optional(),
});
export type InboxRoom = z.infer<typeof InboxRoom>;

export const InboxFrame = z.discriminatedUnion("type", [
  /** Audience: the connecting socket, first. Every room the inbox knows, in its latest state. */
  z.object({ type: z.literal("inbox_state"), rooms: z.array(InboxRoom) }),
  /**
   * Audience: every inbox socket of the user. Something changed in one room:
   * a message, edit or deletion (activity; rooms up to the large-room
   * threshold only), your read position moved on another device (read), you
   * joined, left, or the room was deleted or restored.
   */
  z.object({ type: z.literal("inbox"), kind: InboxKind, room: InboxRoom }),
  z.object({ type: z.literal("pong"), reqId: z.string().optional() }),
]);
export type InboxFrame = z.infer<typeof InboxFrame>;

/** What a room hands a member's inbox (room → Inbox RPC). */
export interface InboxNotice {
  kind: InboxKind;
  room: InboxRoom;
}
