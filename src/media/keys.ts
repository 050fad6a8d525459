/**
 * Ids and R2 object keys. Every part of a key is made by the server: the room
 * object's own id (a hex string the runtime derives from the room name) and a
 * random media id. No file name, room name or other user input reaches a key,
 * so a key can never be steered onto another room's objects.
 */

function randomBase36(bytes: number): string {
  let out = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) out += byte.toString(36).padStart(2, "0");
  return out;
}

/** Time-ordered, 96 random bits. */
export function newMediaId(now = Date.now()): string {
  return `med_${now.toString(36).padStart(9, "0")}${randomBase36(12)}`;
}

export function newUploadId(now = Date.now()): string {
  return `upl_${now.toString(36).padStart(9, "0")}${randomBase36(12)}`;
}

/** Every object of a room lives under this prefix; `roomObjectId` is the room Durable Object's id (hex). */
export function roomMediaPrefix(roomObjectId: string): string {
  if (!/^[0-9a-f]{16,128}$/.test(roomObjectId)) throw new Error("room object id must be hex");
  return `rooms/${roomObjectId}/`;
}

export function mediaKey(roomObjectId: string, mediaId: string): string {
  if (!/^med_[a-z0-9]+$/.test(mediaId)) throw new Error("not a media id");
  return `${roomMediaPrefix(roomObjectId)}${mediaId}`;
}
