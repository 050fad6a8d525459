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
