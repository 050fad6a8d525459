/** base64url (RFC 4648 §5, unpadded): ids, tickets, cursors and signatures that travel in URLs. */

export function bytesToBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return toUrl(btoa(binary));
}

export function base64urlToBytes(text: string): Uint8Array {
  return Uint8Array.from(atob(fromUrl(text)), (c) => c.charCodeAt(0));
}

/** A JSON value as base64url (for opaque cursors). */
export function encodeJson(value: unknown): string {
  return bytesToBase64url(new TextEncoder().encode(JSON.stringify(value)));
}

/** The JSON value inside base64url text; throws on text that is not base64url JSON. */
export function decodeJson(text: string): unknown {
  return JSON.parse(new TextDecoder().decode(base64urlToBytes(text)));
}

/** A binary string (one char per byte) as base64url. */
export function binaryToBase64url(binary: string): string {
  return toUrl(btoa(binary));
}

/** base64url text as a binary string (one char per byte); throws on invalid input. */
export function base64urlToBinary(text: string): string {
  return atob(fromUrl(text));
}

function toUrl(b64: string): string {
  return b64.replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function fromUrl(text: string): string {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return b64.padEnd(Math.ceil(b64.length / 4) * 4, "=");
}
