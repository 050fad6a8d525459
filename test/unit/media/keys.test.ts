/**
 * Media ids and R2 keys (src/media/keys.ts): made by the server alone, time
 * ordered, and a key only ever under the room object's own prefix.
 */
import { describe, expect, it } from "vitest";
import { mediaKey, newMediaId, newUploadId, roomMediaPrefix } from "../../../src/media/keys";

const ROOM_OBJECT = "0123456789abcdef0123456789abcdef";

describe("media ids", () => {
  it("are prefixed, lowercase base 36, and sort by creation time", () => {
    const a = newMediaId(1_000);
    const b = newMediaId(2_000_000_000_000);
    expect(a).toMatch(/^med_[a-z0-9]+$/);
    expect(newUploadId(1_000)).toMatch(/^upl_[a-z0-9]+$/);
    expect(a < b).toBe(true);
    expect(newMediaId(5).length).toBe(newMediaId(2_000_000_000_000).length);
  });

  it("differ when made in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newMediaId(42)));
    expect(ids.size).toBe(100);
  });
});

describe("media keys", () => {
  it("live under the room object's prefix", () => {
    const id = newMediaId();
    expect(roomMediaPrefix(ROOM_OBJECT)).toBe(`rooms/${ROOM_OBJECT}/`);
    expect(mediaKey(ROOM_OBJECT, id)).toBe(`rooms/${ROOM_OBJECT}/${id}`);
  });

  it("refuse a room object id that is not hex, and a media id that is not one", () => {
    for (const bad of ["", "general", "../other", `${ROOM_OBJECT}/x`, "ABCDEF0123456789", "abc"]) {
      expect(() => roomMediaPrefix(bad), bad).toThrow();
    }
    for (const bad of ["", "upl_abc", "med_", "med_../x", "med_ABC", "x/med_abc"]) {
      expect(() => mediaKey(ROOM_OBJECT, bad), bad).toThrow();
    }
  });
});
