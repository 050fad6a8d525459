/** Media downloads with Range and conditional requests (206, 416, 304, If-Range). */
import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";
import { download, equalBytes, pdf, upload } from "./fixtures";

describe("media byte ranges and conditional requests", () => {
  it("serves byte ranges and conditional requests", async () => {
    const alice = await user("media-range");
    const room = uniqueRoom("media");
    await alice.createRoom(room);
    const file = pdf(10_000);
    const up = await upload(alice.token, room, file, { filename: "doc.pdf" });
    expect(up.body.contentType).toBe("application/pdf");
    const path = `/api/rooms/${room}/media/${up.body.mediaId}`;

    const mid = await download(path, { token: alice.token, headers: { Range: "bytes=100-199" } });
    expect(mid.status).toBe(206);
    expect(mid.headers.get("content-range")).toBe("bytes 100-199/10000");
    expect(equalBytes(mid.bytes, file.slice(100, 200))).toBe(true);

    const tail = await download(path, { token: alice.token, headers: { Range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect(equalBytes(tail.bytes, file.slice(-10))).toBe(true);

    const open = await download(path, { token: alice.token, headers: { Range: "bytes=9990-" } });
    expect(open.headers.get("content-range")).toBe("bytes 9990-9999/10000");
    expect(equalBytes(open.bytes, file.slice(9990))).toBe(true);

    const beyond = await download(path, { token: alice.token, headers: { Range: "bytes=20000-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */10000");

    const full = await download(path, { token: alice.token });
    expect(full.headers.get("content-disposition")).toMatch(/^attachment;/);
    const etag = full.headers.get("etag")!;
    const again = await download(path, { token: alice.token, headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.bytes.byteLength).toBe(0);
    // If-Range with an old validator gets the whole file, not a stale range.
    const stale = await download(path, { token: alice.token, headers: { Range: "bytes=0-9", "If-Range": '"old"' } });
    expect(stale.status).toBe(200);
    expect(stale.bytes.byteLength).toBe(10_000);
  });
});
