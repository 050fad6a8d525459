/** Link detection in message text: which runs become links, and where a URL ends. */
import { describe, expect, it } from "vitest";
import { linkify } from "../../../src/web/linkify";

describe("linkify", () => {
  it("leaves text without URLs as one text run", () => {
    expect(linkify("hello there")).toEqual([{ kind: "text", text: "hello there" }]);
  });

  it("gives nothing for empty text", () => {
    expect(linkify("")).toEqual([]);
  });

  it("turns an http(s) URL into a link between text runs, with a normalised href", () => {
    expect(linkify("see HTTPS://Example.COM/a?b=1#c now")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "HTTPS://Example.COM/a?b=1#c", href: "https://example.com/a?b=1#c" },
      { kind: "text", text: " now" },
    ]);
  });

  it("finds several links, including one at the very start and one at the very end", () => {
    expect(linkify("http://a.example and https://b.example")).toEqual([
      { kind: "link", text: "http://a.example", href: "http://a.example/" },
      { kind: "text", text: " and " },
      { kind: "link", text: "https://b.example", href: "https://b.example/" },
    ]);
  });

  it("ends a URL before the punctuation that ends the sentence", () => {
    expect(linkify("Look: https://example.com/page.")).toEqual([
      { kind: "text", text: "Look: " },
      { kind: "link", text: "https://example.com/page", href: "https://example.com/page" },
      { kind: "text", text: "." },
    ]);
    expect(linkify("(https://example.com/x), ok?!")).toEqual([
      { kind: "text", text: "(" },
      { kind: "link", text: "https://example.com/x", href: "https://example.com/x" },
      { kind: "text", text: "), ok?!" },
    ]);
  });

  it("ends a URL at whitespace, angle brackets, quotes and backticks", () => {
    for (const [open, close] of [["<", ">"], ['"', '"'], ["'", "'"], ["`", "`"]] as const) {
      expect(linkify(`${open}https://example.com/q${close} x`)).toEqual([
        { kind: "text", text: open },
        { kind: "link", text: "https://example.com/q", href: "https://example.com/q" },
        { kind: "text", text: `${close} x` },
      ]);
    }
    expect(linkify("https://example.com/a\nnext")[0]).toEqual({ kind: "link", text: "https://example.com/a", href: "https://example.com/a" });
  });

  it("keeps other schemes as text", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.com/file", "mailto:a@example.com", "file:///etc/passwd"]) {
      expect(linkify(text)).toEqual([{ kind: "text", text }]);
    }
  });

  it("does not link a scheme with no host, nor a scheme in the middle of a word", () => {
    expect(linkify("https://.")).toEqual([{ kind: "text", text: "https://." }]);
    expect(linkify("xhttps://example.com")).toEqual([{ kind: "text", text: "xhttps://example.com" }]);
  });

  it("a javascript: URL hidden after an http one stays text", () => {
    const segments = linkify("https://ok.example javascript:alert(1)");
    expect(segments).toEqual([
      { kind: "link", text: "https://ok.example", href: "https://ok.example/" },
      { kind: "text", text: " javascript:alert(1)" },
    ]);
  });

  it("the runs put back together are the original text", () => {
    const text = "a https://x.example/p?q=(1) b, http://y.example. c";
    expect(linkify(text).map((s) => s.text).join("")).toBe(text);
  });
});
