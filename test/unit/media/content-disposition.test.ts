/** contentDisposition: inline only for media types, and a filename no header parser can misread. */
import { describe, expect, it } from "vitest";
import { contentDisposition } from "../../../src/media/download";

describe("contentDisposition", () => {
  it("is inline for images, audio and video, an attachment for everything else", () => {
    expect(contentDisposition("image/png", "a.png")).toMatch(/^inline; /);
    expect(contentDisposition("audio/ogg", "a.ogg")).toMatch(/^inline; /);
    expect(contentDisposition("video/mp4", "a.mp4")).toMatch(/^inline; /);
    expect(contentDisposition("text/plain", "a.txt")).toMatch(/^attachment; /);
    expect(contentDisposition("application/pdf", "a.pdf")).toMatch(/^attachment; /);
    // A type that only contains "image/" further on is not an image.
    expect(contentDisposition("application/x-image/png", "a")).toMatch(/^attachment; /);
  });

  it("gives a plain ASCII name and the exact name in RFC 8187 form", () => {
    expect(contentDisposition("image/png", "cat.png")).toBe(`inline; filename="cat.png"; filename*=UTF-8''cat.png`);
    expect(contentDisposition("text/plain", "notes 2024.txt")).toBe(`attachment; filename="notes 2024.txt"; filename*=UTF-8''notes%202024.txt`);
  });

  it("replaces quotes, backslashes and non-ASCII in the plain name, so it cannot end the header value early", () => {
    const header = contentDisposition("text/plain", 'a"b\\c\r\nd.txt');
    expect(header).toBe(`attachment; filename="a_b_c__d.txt"; filename*=UTF-8''a%22b%5Cc%0D%0Ad.txt`);
    expect(header).not.toMatch(/[\r\n]/);
    expect(contentDisposition("image/jpeg", "café ☕.jpg")).toBe(`inline; filename="caf_ _.jpg"; filename*=UTF-8''caf%C3%A9%20%E2%98%95.jpg`);
  });
});
