/**
 * The Worker's own responses carry `X-Content-Type-Options: nosniff`: JSON
 * answers, errors made at the edge, unknown routes, and errors passed through
 * from a room object. (HTML comes from the assets, whose headers _headers
 * sets: that is checked against `wrangler dev` in test/e2e.)
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, api, uniqueRoom, upgrade, user, uniqueUser } from "../helpers";

describe("nosniff on the Worker's responses", () => {
  it("is on successes, edge errors, unknown routes and errors passed through from a room", async () => {
    const alice = await user(uniqueUser("headers"));
    const room = uniqueRoom("headers");
    const created = await alice.createRoom(room);
    expect(created.status).toBe(201);
    const answers = [
      created,
      await api("GET", `/api/rooms/${room}/messages`, { token: alice.token }),
      await api("GET", "/api/rooms"),
      await api("GET", "/api/no-such-route"),
      await api("POST", "/api/rooms", { token: alice.token, body: "{ not json" }),
    ];
    for (const res of answers) expect(res.headers.get("x-content-type-options"), `status ${res.status}`).toBe("nosniff");
    expect(answers.map((r) => r.status)).toEqual([201, 200, 401, 404, 400]);
    // A refused upgrade is answered by the room object (a well-formed ticket it never issued;
    // a malformed one is refused by the Worker before any object is asked).
    const refused = await upgrade(`/api/rooms/${room}/ws?ticket=${"A".repeat(32)}`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-content-type-options")).toBe("nosniff");
    expect(refused.headers.get("content-type")).toContain("application/json");
    const health = await SELF.fetch(`${BASE}/api/health`);
    expect(health.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
