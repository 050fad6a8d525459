/** safeHref: only http(s) URLs may become an href (message links, attachment URLs). */
import { describe, expect, it } from "vitest";
import { safeHref } from "../../../src/web/linkify";

describe("safeHref", () => {
  it("answers http and https URLs, normalised", () => {
    expect(safeHref("http://example.com")).toBe("http://example.com/");
    expect(safeHref("HTTPS://Example.COM/a b")).toBe("https://example.com/a%20b");
    expect(safeHref("https://chat.example/api/rooms/r/media/med_1/download?exp=1&sig=abc")).toBe(
      "https://chat.example/api/rooms/r/media/med_1/download?exp=1&sig=abc",
    );
  });

  it("refuses every other scheme", () => {
    for (const url of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,hi", "blob:https://example.com/x", "ftp://example.com", "file:///etc/passwd", "vbscript:x"]) {
      expect(safeHref(url)).toBeNull();
    }
  });

  it("refuses what does not parse as an absolute URL", () => {
    for (const url of ["", "not a url", "/relative/path", "//example.com/x", "https://", "http://[::1"]) {
      expect(safeHref(url)).toBeNull();
    }
  });

  it("refuses a javascript: URL disguised with leading whitespace or control characters", () => {
    expect(safeHref(" javascript:alert(1)")).toBeNull();
    expect(safeHref("\tjava\nscript:alert(1)")).toBeNull();
  });
});
