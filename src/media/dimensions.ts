/**
 * Pixel dimensions from the first bytes of an image: PNG (IHDR), GIF (logical
 * screen), WebP (VP8, VP8L, VP8X) and JPEG (the first SOFn marker). A few
 * dozen lines are enough for these four, so no dependency; anything it cannot
 * read returns null and the attachment simply has no dimensions.
 */
export interface Dimensions {
  width: number;
  height: number;
}

export function imageDimensions(contentType: string, b: Uint8Array): Dimensions | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ok = (d: Dimensions) => (d.width > 0 && d.height > 0 ? d : null);
  try {
    switch (contentType) {
      case "image/png":
        // 8-byte signature, IHDR length + type, then width and height (big endian).
        return b.length >= 24 ? ok({ width: view.getUint32(16), height: view.getUint32(20) }) : null;
      case "image/gif":
        return b.length >= 10 ? ok({ width: view.getUint16(6, true), height: view.getUint16(8, true) }) : null;
      // Every branch through ok(): a VP8 frame or a JPEG sized by a later DNL marker reads
      // as 0, and an attachment with a zero side breaks the protocol's Attachment schema.
      case "image/webp": {
        const d = webp(b, view);
        return d && ok(d);
      }
      case "image/jpeg": {
        const d = jpeg(b, view);
        return d && ok(d);
      }
      default:
        return null;
    }
  } catch {
    return null; // truncated header
  }
}

function webp(b: Uint8Array, view: DataView): Dimensions | null {
  const chunk = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
  if (chunk === "VP8X") {
    // 24-bit little-endian canvas width - 1 and height - 1.
    const w = 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16));
    const h = 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16));
    return { width: w, height: h };
  }
  if (chunk === "VP8 ") {
    // Key frame: start code 9d 01 2a at 23, then 14-bit width and height.
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L") {
    // Signature 0x2f at 20, then 14-bit width - 1 and height - 1 packed in 4 bytes.
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  return null;
}

function jpeg(b: Uint8Array, view: DataView): Dimensions | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    i += 2 + view.getUint16(i + 2);
  }
  return null;
}
