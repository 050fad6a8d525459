/** parseRange: one `bytes=` range against an object's size (RFC 9110 §14), in plain Node. */
import { describe, expect, it } from "vitest";
import { parseRange } from "../../../src/media/download";

describe("parseRange", () => {
  it("serves everything without a header, for other units, lists and malformed values", () => {
    expect(parseRange(null, 100)).toBeNull();
    expect(parseRange("", 100)).toBeNull();
    expect(parseRange("items=0-1", 100)).toBeNull();
    expect(parseRange("bytes=0-1,5-6", 100)).toBeNull();
    expect(parseRange("bytes=-", 100)).toBeNull();
    expect(parseRange("bytes=a-b", 100)).toBeNull();
  });

  it("reads start-end, both included, and clamps the end to the last byte", () => {
    expect(parseRange("bytes=0-0", 100)).toEqual({ offset: 0, length: 1 });
    expect(parseRange("bytes=10-19", 100)).toEqual({ offset: 10, length: 10 });
    expect(parseRange(" bytes=10-19 ", 100)).toEqual({ offset: 10, length: 10 });
    expect(parseRange("bytes=90-1000", 100)).toEqual({ offset: 90, length: 10 });
    expect(parseRange("bytes=99-99", 100)).toEqual({ offset: 99, length: 1 });
  });

  it("reads an open end as the rest of the object", () => {
    expect(parseRange("bytes=0-", 100)).toEqual({ offset: 0, length: 100 });
    expect(parseRange("bytes=40-", 100)).toEqual({ offset: 40, length: 60 });
  });

  it("reads a suffix as the last n bytes, at most the whole object", () => {
    expect(parseRange("bytes=-10", 100)).toEqual({ offset: 90, length: 10 });
    expect(parseRange("bytes=-100", 100)).toEqual({ offset: 0, length: 100 });
    expect(parseRange("bytes=-500", 100)).toEqual({ offset: 0, length: 100 });
  });

  it("is unsatisfiable past the end, reversed, an empty suffix, or any range of an empty object", () => {
    expect(parseRange("bytes=100-", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=100-200", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=20-10", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=-5", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
  });
});
