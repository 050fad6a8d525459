/** Unknown routes answer 404 not_found in the error shape. */
import { describe, expect, it } from "vitest";
import { api, errorOf } from "../helpers";

describe("unknown routes", () => {
  it("answer 404 not_found in the error shape", async () => {
    const res = await api("GET", "/api/nope");
    expect(errorOf(res)).toEqual({ status: 404, code: "not_found", hasMessage: true });
  });
});
