/** typeAllowed: exact content types and `major/*` wildcards of a deployment's allow-list. */
import { describe, expect, it } from "vitest";
import { typeAllowed } from "../../../src/media/allowed-types";

describe("typeAllowed", () => {
  it("matches exact types", () => {
    expect(typeAllowed("image/png", ["image/png", "application/pdf"])).toBe(true);
    expect(typeAllowed("image/gif", ["image/png", "application/pdf"])).toBe(false);
  });

  it("matches a wildcard on the major type only", () => {
    expect(typeAllowed("image/webp", ["image/*"])).toBe(true);
    expect(typeAllowed("video/mp4", ["image/*"])).toBe(false);
    // "image/*" does not reach a major type that merely starts with "image".
    expect(typeAllowed("imagex/png", ["image/*"])).toBe(false);
  });

  it("allows nothing with an empty list", () => {
    expect(typeAllowed("text/plain", [])).toBe(false);
  });
});
