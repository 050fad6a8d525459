/** POST /api/dev/token (DEV_AUTH): tokens for local use that the API accepts, and which user ids it issues them for. */
import { describe, expect, it } from "vitest";
import { api, errorOf, tokenFor, uniqueRoom } from "../helpers";

const now = () => Math.floor(Date.now() / 1000);

describe("POST /api/dev/token", () => {
  it("issues a token for a user id that the API accepts", async () => {
    const res = await api("POST", "/api/dev/token", { body: { userId: "dev-user@example.com" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ token: expect.any(String) });
    const room = uniqueRoom();
    const created = await api("POST", "/api/rooms", { token: res.body.token, body: { roomId: room } });
    expect(created.status).toBe(201);
    const members = await api("GET", `/api/rooms/${room}/members`, { token: res.body.token });
    expect(members.body.members[0].userId).toBe("dev-user@example.com");
  });

  it.each([
    ["an invalid user id", { userId: "a b" }],
    ["an empty user id", { userId: "" }],
    ["no user id", {}],
    ["a user id that is not a string", { userId: 7 }],
  ])("rejects %s with 400 invalid_request", async (_name, body) => {
    expect(errorOf(await api("POST", "/api/dev/token", { body }))).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
  });

  it("signs tokens that expire: exp is set and in the future", async () => {
    const token = await tokenFor("alice");
    const payload = JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as { sub: string; exp: number };
    expect(payload.sub).toBe("alice");
    expect(payload.exp).toBeGreaterThan(now());
  });
});
