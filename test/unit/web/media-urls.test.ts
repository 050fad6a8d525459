/** The signed-URL cache of a conversation: reuse while fresh, ask again when stale or failed. */
import { describe, expect, it } from "vitest";
import { MEDIA_URL_REUSE_MS, mediaUrlCache } from "../../../src/web/conversation/media-urls";

function fakeServer() {
  const asked: string[] = [];
  let fail = false;
  return {
    asked,
    failNext: () => (fail = true),
    fetchUrl: (mediaId: string) => {
      asked.push(mediaId);
      if (fail) {
        fail = false;
        return Promise.reject(new Error("offline"));
      }
      return Promise.resolve(`https://chat.example/${mediaId}?n=${asked.length}`);
    },
  };
}

describe("mediaUrlCache", () => {
  it("asks once per media id while the URL is fresh", async () => {
    let now = 1_000;
    const server = fakeServer();
    const url = mediaUrlCache(server.fetchUrl, () => now);
    expect(await url("med_a")).toBe("https://chat.example/med_a?n=1");
    now += MEDIA_URL_REUSE_MS - 1;
    expect(await url("med_a")).toBe("https://chat.example/med_a?n=1");
    expect(await url("med_b")).toBe("https://chat.example/med_b?n=2");
    expect(server.asked).toEqual(["med_a", "med_b"]);
  });

  it("asks again once the reuse window has passed", async () => {
    let now = 0;
    const server = fakeServer();
    const url = mediaUrlCache(server.fetchUrl, () => now);
    await url("med_a");
    now = MEDIA_URL_REUSE_MS;
    expect(await url("med_a")).toBe("https://chat.example/med_a?n=2");
    expect(server.asked).toEqual(["med_a", "med_a"]);
  });

  it("forgets a failed request, so the next render retries", async () => {
    const server = fakeServer();
    const url = mediaUrlCache(server.fetchUrl, () => 0);
    server.failNext();
    await expect(url("med_a")).rejects.toThrow("offline");
    expect(await url("med_a")).toBe("https://chat.example/med_a?n=2");
    expect(server.asked).toEqual(["med_a", "med_a"]);
  });
});
