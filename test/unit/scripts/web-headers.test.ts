/**
 * The assets' security headers (dist/web/_headers, from scripts/web-headers.mjs):
 * the page may connect to its own origin only (no WebSocket to any other host),
 * HSTS is on, and a Permissions-Policy turns the powerful features off.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, no type declarations
import { CONTENT_SECURITY_POLICY, headersFile } from "../../../scripts/web-headers.mjs";

const headers = () => {
  const lines = (headersFile() as string).split("\n").slice(1).filter((l) => l.trim() !== "");
  return new Map(lines.map((l) => { const i = l.indexOf(":"); return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const; }));
};
const directives = (csp: string) => new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

describe("asset security headers", () => {
  it("limit connect-src to the app's own origin", () => {
    const csp = headers().get("content-security-policy")!;
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(directives(csp).get("connect-src")).toEqual(["'self'"]);
    expect(directives(csp).get("script-src")).toEqual(["'self'"]);
    expect(directives(csp).get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("send HSTS and a restrictive Permissions-Policy", () => {
    const h = headers();
    expect(h.get("strict-transport-security")).toMatch(/^max-age=(\d+)/);
    expect(Number(/^max-age=(\d+)/.exec(h.get("strict-transport-security")!)![1])).toBeGreaterThanOrEqual(31_536_000);
    const policy = new Map(h.get("permissions-policy")!.split(",").map((p) => p.trim().split("=") as [string, string]));
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb", "display-capture"]) expect(policy.get(feature), feature).toBe("()");
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("referrer-policy")).toBe("no-referrer");
    expect(h.get("x-frame-options")).toBe("DENY");
  });
});
