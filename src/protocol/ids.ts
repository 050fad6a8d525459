/** Ids on the wire: rooms, users, messages, client message ids and timestamps. */
import { z } from "zod";

/** Room ids are chosen by users; they appear in URLs, so the alphabet is URL-safe. */
/** "." and ".." would be rewritten away by URL path normalisation, so they are not ids. */
const notDotSegment = (id: string) => id !== "." && id !== "..";

export const RoomId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "room ids are 1 to 64 letters, digits, '-', '_' or '.'")
  .refine(notDotSegment, "room ids cannot be '.' or '..'");
export type RoomId = z.infer<typeof RoomId>;

/**
 * User ids come from the token's `sub`. They are kept to a conservative alphabet
 * so that they are safe in logs, URLs and as parts of direct-room ids.
 */
export const UserId = z
  .string()
  .regex(/^[A-Za-z0-9._@:|-]{1,128}$/, "user ids are 1 to 128 letters, digits or '._@:|-'")
  .refine(notDotSegment, "user ids cannot be '.' or '..'");
export type UserId = z.infer<typeof UserId>;

/** Direct (1:1) rooms live under this prefix, which users cannot create by hand. */
export const DIRECT_ROOM_PREFIX = "dm.";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text that can be encoded as UTF-8. A lone UTF-16 surrogate cannot: storage
 * would replace it, so what was acknowledged would not be what is stored.
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export const ClientMessageId = z.string().min(1).max(128).refine(isWellFormedText, "clientId is not valid Unicode");

/** ISO 8601 UTC with milliseconds, as produced by Date#toISOString. */
export const Timestamp = z.iso.datetime({ precision: 3 });
