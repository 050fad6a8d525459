/** The media routes in the OpenAPI document. */
import { describe, expect, it } from "vitest";
import { api } from "../helpers";

describe("media in the OpenAPI document", () => {
  it("documents every media route in the OpenAPI document", async () => {
    const doc = await api("GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths);
    for (const path of [
      "/api/rooms/{roomId}/media",
      "/api/rooms/{roomId}/media/uploads",
      "/api/rooms/{roomId}/media/uploads/{uploadId}",
      "/api/rooms/{roomId}/media/uploads/{uploadId}/parts/{partNumber}",
      "/api/rooms/{roomId}/media/uploads/{uploadId}/complete",
      "/api/rooms/{roomId}/media/{mediaId}",
      "/api/rooms/{roomId}/media/{mediaId}/url",
    ]) {
      expect(paths).toContain(path);
    }
    expect(doc.body.paths["/api/rooms/{roomId}/media"].post.responses).toHaveProperty("415");
  });
});
