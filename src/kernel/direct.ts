/** The id of a 1:1 room, derived from its two members (the Worker routes it, the room checks it). */
import { DIRECT_ROOM_PREFIX } from "../protocol";

/**
 * The id of the 1:1 room of two users: the same from either side, and not
 * guessable into someone else's pair because it is a hash of both ids.
 */
export async function directRoomId(a: string, b: string): Promise<string> {
  const [first, second] = [a, b].sort();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${first}\n${second}`));
  const hex = [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${DIRECT_ROOM_PREFIX}${hex.slice(0, 40)}`;
}
