/** imageDimensions: pixel sizes from the first bytes of PNG, GIF, WebP and JPEG (moved from test/media/sniffing.test.ts). */
import { describe, expect, it } from "vitest";
import { imageDimensions } from "../../../src/media/dimensions";
import { png } from "./images";

describe("imageDimensions", () => {
  it("reads dimensions from PNG, GIF, WebP and JPEG headers", () => {
    expect(imageDimensions("image/png", png(300, 200, 100))).toEqual({ width: 300, height: 200 });
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x40, 0x01, 0xf0, 0x00, 0, 0]);
    expect(imageDimensions("image/gif", gif)).toEqual({ width: 320, height: 240 });
    // JPEG: SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, 0, 0, 0, 0]);
    expect(imageDimensions("image/jpeg", jpeg)).toEqual({ width: 640, height: 480 });
    // WebP VP8X: canvas 1000 x 500 stored as width-1, height-1 in 24 bits.
    const webp = new Uint8Array(30);
    webp.set(new TextEncoder().encode("RIFF"), 0);
    webp.set(new TextEncoder().encode("WEBPVP8X"), 8);
    webp.set([999 & 0xff, 999 >> 8, 0, 499 & 0xff, 499 >> 8, 0], 24);
    expect(imageDimensions("image/webp", webp)).toEqual({ width: 1000, height: 500 });
    expect(imageDimensions("image/png", new Uint8Array(10))).toBeNull();
  });

  it("gives none for a zero size, a truncated header or a type it does not read", () => {
    expect(imageDimensions("image/png", png(0, 10))).toBeNull();
    expect(imageDimensions("image/gif", new Uint8Array([0x47, 0x49, 0x46]))).toBeNull();
    expect(imageDimensions("image/jpeg", new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00]))).toBeNull();
    expect(imageDimensions("application/pdf", png(10, 10))).toBeNull();
  });
});
