/** Messages and the events of a room's log (sent, edited, deleted, joined, left...), in seq order. */
import { z } from "zod";
import { RoomId, Timestamp, UserId } from "./ids";
import { Attachment } from "./media";

/** A chat message as clients see it. `seq` is its place in the room's event log. */
export const Message = z.object({
  id: z.string(),
  roomId: RoomId,
  seq: z.number().int().positive(),
  sender: UserId,
  content: z.string(),
  ts: Timestamp,
  clientId: z.string().optional(),
  /** Set once the sender edited it; the message keeps its id and seq. */
  editedTs: Timestamp.optional(),
  /**
   * A tombstone: the message was deleted. It keeps its slot (id, seq, sender,
   * ts); `content` is empty and the original is gone from storage.
   */
  deleted: z.literal(true).optional(),
  deletedBy: UserId.optional(),
  deletedTs: Timestamp.optional(),
  /**
   * A tombstone left by the room's message retention (with `deleted`, and
   * `deletedTs` the time it was trimmed; no `deletedBy`): the message was older
   * than the room keeps messages.
   */
  expired: z.literal(true).optional(),
  /** Files attached to the message, in the order the sender gave. */
  attachments: z.array(Attachment).optional(),
});
export type Message = z.infer<typeof Message>;

export const Role = z.enum(["owner", "admin", "member"]);
export type Role = z.infer<typeof Role>;

export const RoomKind = z.enum(["group", "direct"]);
export type RoomKind = z.infer<typeof RoomKind>;

/**
 * Everything that happens in a room takes the next `seq` in its log. Messages
 * are one kind of event; membership changes are another, which is why the
 * `seq` of consecutive messages may skip numbers.
 */
export const RoomEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), seq: z.number().int(), ts: Timestamp, message: Message }),
  z.object({
    type: z.literal("member_joined"),
    seq: z.number().int(),
    ts: Timestamp,
    userId: UserId,
    role: Role,
  }),
  z.object({ type: z.literal("member_left"), seq: z.number().int(), ts: Timestamp, userId: UserId }),
  /** The message now reads as `message` (same id and seq, new content, editedTs). */
  z.object({
    type: z.literal("message_edited"),
    seq: z.number().int(),
    ts: Timestamp,
    message: Message,
    /**
     * Replays only: a later edit of the same message in this replay, at this
     * seq, carries its state, so this one carries none (`message.content` is
     * empty, `editedTs` is this edit's time). A replay sends each edited
     * message's content once, however often it was edited.
     */
    supersededBy: z.number().int().optional(),
  }),
  /** The message at `messageSeq` became a tombstone. */
  z.object({
    type: z.literal("message_deleted"),
    seq: z.number().int(),
    ts: Timestamp,
    messageId: z.string(),
    messageSeq: z.number().int(),
    deletedBy: UserId,
    deletedTs: Timestamp,
  }),
  /** The whole conversation was deleted. Sockets close with 4004 right after this event. */
  z.object({
    type: z.literal("room_deleted"),
    seq: z.number().int(),
    ts: Timestamp,
    deletedBy: UserId,
    /** Until then the deleter, owners and admins may restore it. */
    restorableUntil: Timestamp,
  }),
  z.object({ type: z.literal("room_restored"), seq: z.number().int(), ts: Timestamp, restoredBy: UserId }),
]);
export type RoomEvent = z.infer<typeof RoomEvent>;

export const RoomInfo = z.object({
  roomId: RoomId,
  kind: RoomKind,
  createdTs: Timestamp,
  createdBy: UserId,
  epoch: z.string(),
  seq: z.number().int(),
});
export type RoomInfo = z.infer<typeof RoomInfo>;
