/** The published OpenAPI document. */
import { describe, expect, it } from "vitest";
import { api } from "../helpers";

describe("GET /api/openapi.json", () => {
  it("is public and describes the API as OpenAPI 3.1.0", async () => {
    const res = await api("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.info.title).toEqual(expect.any(String));
  });

  it("lists the room, message, join, direct and connect-ticket paths", async () => {
    const { body } = await api("GET", "/api/openapi.json");
    const paths = Object.keys(body.paths);
    for (const path of [
      "/api/rooms",
      "/api/rooms/{roomId}/messages",
      "/api/rooms/{roomId}/join",
      "/api/rooms/{roomId}/leave",
      "/api/rooms/{roomId}/members",
      "/api/rooms/{roomId}/active-users",
      "/api/direct/{userId}",
      "/api/rooms/{roomId}/connect-ticket",
      "/api/dev/token",
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(Object.keys(body.paths["/api/rooms/{roomId}/messages"]).sort()).toEqual(["get", "post"]);
  });

  it("declares bearer authentication on protected operations", async () => {
    const { body } = await api("GET", "/api/openapi.json");
    expect(body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(body.paths["/api/rooms/{roomId}/messages"].post.security).toEqual([{ bearerAuth: [] }]);
  });
});
