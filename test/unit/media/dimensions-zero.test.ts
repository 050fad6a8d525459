/** An image whose header gives a zero side has no dimensions (the Attachment schema needs positive ones). */
import { expect, it } from "vitest";
import { imageDimensions } from "../../../src/media/dimensions";

it("a JPEG whose SOF0 height is 0 (set later by a DNL marker) has no dimensions", () => {
  // SOI, then SOF0: length 17, precision 8, height 0, width 16, 3 components.
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x00, 0x10, 0x03, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  expect(imageDimensions("image/jpeg", jpeg)).toBeNull();
});

it("a JPEG with both sides set keeps them", () => {
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x08, 0x00, 0x10, 0x03, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  expect(imageDimensions("image/jpeg", jpeg)).toEqual({ width: 16, height: 8 });
});
