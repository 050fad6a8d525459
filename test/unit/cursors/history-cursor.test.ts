/**
 * The history cursor (src/room/history.ts): seq bounds in opaque base64url
 * JSON, backward ({ b, l }) or forward ({ a, u }), never both, and anything
 * else refused rather than guessed at.
 */
import { describe, expect, it } from "vitest";
import { encodeJson } from "../../../src/kernel/base64url";
import { decodeCursor, encodeCursor, forwardCursor, latestCursor } from "../../../src/room/history";

describe("history cursors", () => {
  it("round-trip backward and forward bounds, as URL-safe text", () => {
    for (const cursor of [{ b: 51 }, { b: 51, l: 3 }, { a: 0 }, { a: 10, u: 250 }, { b: Number.MAX_SAFE_INTEGER }]) {
      const text = encodeCursor(cursor);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text)).toEqual(cursor);
    }
  });

  it("are what a resync and the newest page hand out", () => {
    expect(decodeCursor(forwardCursor(7, 42))).toEqual({ a: 7, u: 42 });
    expect(decodeCursor(latestCursor(99))).toEqual({ b: 100 });
    expect(decodeCursor(latestCursor(0))).toEqual({ b: 1 });
  });

  it("refuse a cursor that is both directions or neither", () => {
    expect(decodeCursor(encodeJson({ a: 1, b: 2 }))).toBeNull();
    expect(decodeCursor(encodeJson({}))).toBeNull();
    expect(decodeCursor(encodeJson({ l: 3, u: 4 }))).toBeNull();
  });

  it("refuse negative, fractional, unsafe or non-numeric bounds", () => {
    expect(decodeCursor(encodeJson({ b: -1 }))).toBeNull();
    expect(decodeCursor(encodeJson({ b: 1.5 }))).toBeNull();
    expect(decodeCursor(encodeJson({ b: 2 ** 53 }))).toBeNull();
    expect(decodeCursor(encodeJson({ b: "5" }))).toBeNull();
    expect(decodeCursor(encodeJson({ a: 1, u: null }))).toBeNull();
  });

  it("refuse text that is not base64url JSON of an object", () => {
    for (const text of ["", "!!!", "not a cursor", encodeJson([1, 2]), encodeJson(null), encodeJson(5), encodeJson("b")]) {
      expect(decodeCursor(text), text).toBeNull();
    }
  });

  it("ignore keys they do not know", () => {
    expect(decodeCursor(encodeJson({ b: 5, x: "y" }))).toEqual({ b: 5 });
  });
});
