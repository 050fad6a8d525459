/**
 * The sync cursor (src/db/sync.ts): the last log id delivered and when the
 * cursor was issued, in opaque base64url JSON; a malformed one is refused.
 */
import { describe, expect, it } from "vitest";
import { encodeJson } from "../../../src/kernel/base64url";
import { decodeSyncCursor, encodeSyncCursor } from "../../../src/db/sync";

describe("sync cursors", () => {
  it("round-trip the log id and the issue time, as URL-safe text", () => {
    for (const cursor of [{ i: 0, t: 0 }, { i: 123, t: 1_780_000_000_000 }, { i: Number.MAX_SAFE_INTEGER, t: -5 }]) {
      const text = encodeSyncCursor(cursor);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeSyncCursor(text)).toEqual(cursor);
    }
  });

  it("refuse a negative or non-integer id, a non-integer time, or either missing", () => {
    expect(decodeSyncCursor(encodeJson({ i: -1, t: 0 }))).toBeNull();
    expect(decodeSyncCursor(encodeJson({ i: 1.5, t: 0 }))).toBeNull();
    expect(decodeSyncCursor(encodeJson({ i: "1", t: 0 }))).toBeNull();
    expect(decodeSyncCursor(encodeJson({ i: 1, t: 0.5 }))).toBeNull();
    expect(decodeSyncCursor(encodeJson({ i: 1 }))).toBeNull();
    expect(decodeSyncCursor(encodeJson({ t: 1 }))).toBeNull();
  });

  it("refuse text that is not base64url JSON of an object", () => {
    for (const text of ["", "%%%", "garbage", encodeJson(null), encodeJson(7), encodeJson("x")]) {
      expect(decodeSyncCursor(text), text).toBeNull();
    }
  });

  it("keep only the id and the time", () => {
    expect(decodeSyncCursor(encodeJson({ i: 4, t: 9, extra: true }))).toEqual({ i: 4, t: 9 });
  });
});
