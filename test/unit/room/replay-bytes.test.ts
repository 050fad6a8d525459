/** The replay's byte count (replay.ts): the UTF-8 length of a frame, without encoding it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8Length } from "../../../src/room/replay";

const utf8 = new TextEncoder();

describe("utf8Length", () => {
  it("is what TextEncoder makes of any string, lone surrogates (U+FFFD) included", () => {
    for (const text of ["", "ascii", "\u00e9", "\u20ac", "\u{1F600}", "\ud800", "\udc00x", "a\ud83d", "\u0001".repeat(100)]) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(utf8.encode(text).byteLength);
    }
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => utf8Length(text) === utf8.encode(text).byteLength), { numRuns: 200 });
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), (text) => utf8Length(text) === utf8.encode(text).byteLength), { numRuns: 200 });
  });
});
