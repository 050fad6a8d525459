/**
 * What a file is, decided from its first bytes. The name and the declared
 * Content-Type are user input and are never trusted: a PNG named `.exe` is a
 * PNG, and an HTML page named `.png` is refused (file-type does not detect
 * markup, and text is accepted only as `text/plain`, served as an attachment).
 *
 * file-type (sindresorhus) keeps a large, maintained table of magic numbers;
 * its default entry is the runtime-neutral core (no node:fs), which runs in workerd.
 */
import { fileTypeFromBuffer } from "file-type";
import { typeAllowed } from "./allowed-types";
import { type Dimensions, imageDimensions } from "./dimensions";

/** How many leading bytes the upload path reads before deciding (file-type needs 4100; JPEG frame headers may sit later). */
export const SNIFF_BYTES = 64 * 1024;

export interface Sniffed extends Partial<Dimensions> {
  contentType: string;
  /** The usual extension for the type, without the dot. */
  ext: string;
}

export async function sniff(head: Uint8Array, declaredType: string | undefined, allowed: string[]): Promise<Sniffed | null> {
  const found = await fileTypeFromBuffer(head).catch(() => undefined);
  let result: Sniffed | null = null;
  if (found) {
    result = { contentType: found.mime, ext: found.ext };
  } else if (declaredType?.toLowerCase().startsWith("text/plain") && looksLikePlainText(head)) {
    result = { contentType: "text/plain", ext: "txt" };
  }
  if (!result || !typeAllowed(result.contentType, allowed)) return null;
  const dims = result.contentType.startsWith("image/") ? imageDimensions(result.contentType, head) : null;
  return dims ? { ...result, ...dims } : result;
}

/** Valid UTF-8 (allowing a character cut at the end of the sample) with no NUL or other binary control bytes. */
export function looksLikePlainText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const byte of head) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) return false;
  }
  try {
    // stream: a character cut by the end of the sample is held back, not an error; cutting
    // the last 4 bytes off instead could split a character and refuse "Grüße" as binary.
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Keeps the user's name for display but makes its extension match the real type ("x.exe" that is a PNG becomes "x.exe.png"). */
export function safeFilename(raw: string, ext: string): string {
  // eslint-disable-next-line no-control-regex
  let name = raw.replace(/[\u0000-\u001f\u007f/\\]/g, "_").trim().slice(0, 200) || "file";
  if (!name.toLowerCase().endsWith(`.${ext}`) && !(ext === "jpg" && /\.jpe?g$/i.test(name))) name = `${name}.${ext}`;
  return name;
}
