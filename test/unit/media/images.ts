/** Image headers for the plain-Node media tests (no runtime imports, unlike test/media/fixtures.ts). */

/** A PNG with a real signature and an IHDR of the given dimensions, padded to `size` bytes. */
export function png(width: number, height: number, size = 64): Uint8Array {
  return writePngHeader(new Uint8Array(Math.max(size, 64)), width, height);
}

/** Writes a PNG signature, an IHDR of the given dimensions and an IDAT header over the first 41 bytes. */
export function writePngHeader(bytes: Uint8Array, width: number, height: number): Uint8Array {
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52], 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  // An IDAT chunk header next, so detectors stop reading chunks here.
  bytes.set([0, 0, 0, 0, 0, 0, 0, 0x10, 0x49, 0x44, 0x41, 0x54], 29);
  return bytes;
}
