/** base64url (src/kernel/base64url.ts): RFC 4648 §5 without padding, for bytes, binary strings and JSON. */
import { describe, expect, it } from "vitest";
import { base64urlToBinary, base64urlToBytes, binaryToBase64url, bytesToBase64url, decodeJson, encodeJson } from "../../../src/kernel/base64url";

describe("base64url", () => {
  it("encodes the RFC 4648 test vectors without padding", () => {
    const vectors: Array<[string, string]> = [["", ""], ["f", "Zg"], ["fo", "Zm8"], ["foo", "Zm9v"], ["foob", "Zm9vYg"], ["fooba", "Zm9vYmE"], ["foobar", "Zm9vYmFy"]];
    for (const [plain, encoded] of vectors) {
      expect(binaryToBase64url(plain)).toBe(encoded);
      expect(base64urlToBinary(encoded)).toBe(plain);
    }
  });

  it("uses - and _ for the two characters standard base64 writes as + and /", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
    expect(btoa(String.fromCharCode(...bytes))).toBe("+/+/");
    expect(bytesToBase64url(bytes)).toBe("-_-_");
    expect([...base64urlToBytes("-_-_")]).toEqual([...bytes]);
  });

  it("round-trips every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let n = 0; n <= all.length; n += 37) {
      const slice = all.subarray(0, n);
      const text = bytesToBase64url(slice);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect([...base64urlToBytes(text)]).toEqual([...slice]);
    }
  });

  it("round-trips JSON, non-ASCII included, and throws on text that is not base64url JSON", () => {
    const value = { a: 1, s: "naïve ☕", list: [true, null] };
    expect(decodeJson(encodeJson(value))).toEqual(value);
    expect(() => decodeJson("!!!")).toThrow();
    expect(() => decodeJson(binaryToBase64url("not json"))).toThrow();
  });
});
