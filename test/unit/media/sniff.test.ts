/**
 * Sniffing in plain Node: the type comes from the bytes (file-type), text only
 * when declared and valid UTF-8 without binary control bytes, and only types
 * on the allow-list. The upload path's use of it is tested in test/media/sniffing.test.ts.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_ALLOWED_TYPES } from "../../../src/kernel/config";
import { looksLikePlainText, sniff } from "../../../src/media/sniff";
import { png } from "./images";

const text = (s: string) => new TextEncoder().encode(s);

describe("sniff", () => {
  it("believes the bytes over the declared type, and reads an image's dimensions", async () => {
    expect(await sniff(png(32, 16), "application/x-msdownload", DEFAULT_ALLOWED_TYPES)).toEqual({ contentType: "image/png", ext: "png", width: 32, height: 16 });
    const pdf = text("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<<>>\nendobj\n");
    expect(await sniff(pdf, "image/png", DEFAULT_ALLOWED_TYPES)).toEqual({ contentType: "application/pdf", ext: "pdf" });
  });

  it("refuses what it cannot identify, markup declared as an image among it", async () => {
    expect(await sniff(text("<!doctype html><html><script>alert(1)</script></html>"), "image/png", DEFAULT_ALLOWED_TYPES)).toBeNull();
    expect(await sniff(new Uint8Array(0), "image/png", DEFAULT_ALLOWED_TYPES)).toBeNull();
  });

  it("accepts text only when it is declared as text/plain", async () => {
    const notes = text("meeting notes: ünïcode ok\n");
    expect(await sniff(notes, "text/plain; charset=utf-8", DEFAULT_ALLOWED_TYPES)).toEqual({ contentType: "text/plain", ext: "txt" });
    expect(await sniff(notes, "TEXT/PLAIN", DEFAULT_ALLOWED_TYPES)).toEqual({ contentType: "text/plain", ext: "txt" });
    expect(await sniff(notes, "text/html", DEFAULT_ALLOWED_TYPES)).toBeNull();
    expect(await sniff(notes, undefined, DEFAULT_ALLOWED_TYPES)).toBeNull();
  });

  it("refuses a type off the allow-list, and honours wildcards on it", async () => {
    expect(await sniff(png(8, 8), "image/png", ["application/pdf"])).toBeNull();
    expect(await sniff(png(8, 8), "image/png", ["image/*"])).toMatchObject({ contentType: "image/png" });
    expect(await sniff(text("plain"), "text/plain", ["image/*"])).toBeNull();
  });
});

describe("looksLikePlainText", () => {
  it("takes UTF-8 with tabs, newlines, carriage returns and form feeds", () => {
    expect(looksLikePlainText(text("a\tb\nc\r\nd\fe — ü and more\n"))).toBe(true);
  });

  it("takes valid UTF-8 whose last four bytes split a character", () => {
    expect(looksLikePlainText(text("Grüße"))).toBe(true);
    expect(looksLikePlainText(text("こんにちは世界"))).toBe(true);
  });

  it("takes a sample cut inside its last character, and refuses invalid UTF-8 before it", () => {
    const cut = text("naïve ü").subarray(0, -1);
    expect(looksLikePlainText(cut)).toBe(true);
    expect(looksLikePlainText(Uint8Array.from([0x61, 0xc3, 0x28, 0x61]))).toBe(false);
  });

  it("refuses nothing at all, NUL and other control bytes", () => {
    expect(looksLikePlainText(new Uint8Array(0))).toBe(false);
    expect(looksLikePlainText(new Uint8Array(100))).toBe(false);
    expect(looksLikePlainText(text("abc\u0001def"))).toBe(false);
    expect(looksLikePlainText(text("abc\u001bdef"))).toBe(false);
  });

  it("refuses invalid UTF-8, but allows a character cut at the end of the sample", () => {
    expect(looksLikePlainText(new Uint8Array([0x61, 0xff, 0xfe, 0x61, 0x61, 0x61, 0x61, 0x61]))).toBe(false);
    const cut = text("abcdefgh ☕").subarray(0, -1); // the last character's final byte is missing
    expect(looksLikePlainText(cut)).toBe(true);
  });
});
