/** The typing line's wording, for one, two and more people typing. */
import { describe, expect, it } from "vitest";
import { typingText } from "../../../src/web/conversation/typing";

describe("typingText", () => {
  it("is empty when nobody types", () => {
    expect(typingText([])).toBe("");
  });

  it("names one or two people", () => {
    expect(typingText(["dave"])).toBe("dave is typing…");
    expect(typingText(["dave", "erin"])).toBe("dave and erin are typing…");
  });

  it("names the first two, in the order they started, and counts the rest", () => {
    expect(typingText(["a", "b", "c"])).toBe("a, b and 1 more are typing…");
    expect(typingText(["a", "b", "c", "d", "e"])).toBe("a, b and 3 more are typing…");
  });
});
