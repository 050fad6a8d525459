/** originAllowed: which browser origins may call the API and open sockets (ALLOWED_ORIGINS). */
import { describe, expect, it } from "vitest";
import { originAllowed } from "../../../src/http/origins";

describe("originAllowed", () => {
  it("allows a request without Origin (not from a browser page), whatever the list", () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed(undefined, ["https://chat.example"])).toBe(true);
  });

  it("allows listed origins exactly, nothing close to them", () => {
    const allowed = ["https://chat.example", "http://localhost:8787"];
    expect(originAllowed("https://chat.example", allowed)).toBe(true);
    expect(originAllowed("http://localhost:8787", allowed)).toBe(true);
    expect(originAllowed("https://evil.example", allowed)).toBe(false);
    expect(originAllowed("http://chat.example", allowed)).toBe(false);
    expect(originAllowed("https://chat.example.evil.example", allowed)).toBe(false);
    expect(originAllowed("https://chat.example/", allowed)).toBe(false);
    expect(originAllowed("null", allowed)).toBe(false);
    expect(originAllowed("", allowed)).toBe(false);
  });

  it("allows any origin with *, and none with an empty list", () => {
    expect(originAllowed("https://anything.example", ["*"])).toBe(true);
    expect(originAllowed("https://anything.example", [])).toBe(false);
  });
});
