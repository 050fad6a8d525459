import { describe, expect, it } from "vitest";
import { api, uniqueRoom, user } from "../helpers";
import { download, equalBytes, pdf, png, roomObjects, upload } from "./fixtures";

describe("media upload and download", () => {
  it("round-trips a file byte for byte and records its type and dimensions", async () => {
    const alice = await user("media-alice");
    const room = uniqueRoom("media");
    await alice.createRoom(room);
    const file = png(300_000, 1024, 768);
    const up = await upload(alice.token, room, file, { filename: "holiday.png", contentType: "image/png" });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ filename: "holiday.png", contentType: "image/png", size: file.byteLength, width: 1024, height: 768 });
    expect(up.body.mediaId).toMatch(/^med_/);

    const got = await download(`/api/rooms/${room}/media/${up.body.mediaId}`, { token: alice.token });
    expect(got.status).toBe(200);
    expect(equalBytes(got.bytes, file)).toBe(true);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.headers.get("content-security-policy")).toContain("sandbox");
    expect(got.headers.get("cache-control")).toContain("immutable");
    expect(got.headers.get("content-disposition")).toMatch(/^inline;/);
    expect(got.headers.get("etag")).toBeTruthy();

    // The key is server-made: the room object's id and the media id, nothing the user typed.
    const keys = await roomObjects(room);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^rooms/[0-9a-f]+/${up.body.mediaId}$`));
    expect(keys[0]).not.toContain("holiday");
  });

  it("attaches uploads to messages, with empty content allowed only when there is an attachment", async () => {
    const alice = await user("media-attach-a");
    const bob = await user("media-attach-b");
    const room = uniqueRoom("media");
    await alice.createRoom(room);
    await bob.join(room);
    const up = await upload(alice.token, room, png(2000, 10, 20), { filename: "a.png" });

    // Pending uploads are private to the uploader until attached.
    expect((await download(`/api/rooms/${room}/media/${up.body.mediaId}`, { token: bob.token })).status).toBe(404);
    // Bob cannot attach Alice's upload.
    expect((await bob.call("POST", `/api/rooms/${room}/messages`, { content: "mine", attachments: [up.body.mediaId] })).body.error.code).toBe("invalid_request");
    expect((await alice.call("POST", `/api/rooms/${room}/messages`, { content: "" })).body.error.code).toBe("invalid_request");

    const sent = await alice.call("POST", `/api/rooms/${room}/messages`, { content: "", attachments: [up.body.mediaId] });
    expect(sent.status).toBe(201);
    expect(sent.body.attachments).toEqual([up.body]);
    // Once attached it cannot go on a second message.
    expect((await alice.call("POST", `/api/rooms/${room}/messages`, { content: "again", attachments: [up.body.mediaId] })).body.error.code).toBe("invalid_request");
    // A made-up id is refused too.
    expect((await alice.call("POST", `/api/rooms/${room}/messages`, { content: "x", attachments: ["med_0000000000000000000000"] })).body.error.code).toBe("invalid_request");

    const history = await bob.history(room);
    expect(history.body.messages.at(-1).attachments).toEqual([up.body]);
    expect((await download(`/api/rooms/${room}/media/${up.body.mediaId}`, { token: bob.token })).status).toBe(200);
  });

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

  it("hands out signed URLs that work without a bearer header, for members only", async () => {
    const alice = await user("media-url-a");
    const bob = await user("media-url-b");
    const room = uniqueRoom("media");
    await alice.createRoom(room);
    await bob.join(room);
    const file = png(5000);
    const up = await upload(alice.token, room, file, { filename: "p.png" });
    await alice.call("POST", `/api/rooms/${room}/messages`, { content: "pic", attachments: [up.body.mediaId] });

    const signed = await bob.call("GET", `/api/rooms/${room}/media/${up.body.mediaId}/url`);
    expect(signed.status).toBe(200);
    const plain = await download(signed.body.url);
    expect(plain.status).toBe(200);
    expect(equalBytes(plain.bytes, file)).toBe(true);

    // Tampering with any part of the URL breaks it.
    const forged = signed.body.url.replace("u=media-url-b", "u=media-url-a");
    expect((await download(forged)).status).toBe(401);
    expect((await download(signed.body.url.replace(/sig=[^&]+/, "sig=AAAA"))).status).toBe(401);
    // Without a signature or a token: unauthorized.
    expect((await download(`/api/rooms/${room}/media/${up.body.mediaId}`)).status).toBe(401);

    // Leaving the room kills the URL: membership is checked at download time.
    await bob.leave(room);
    expect((await download(signed.body.url)).status).toBe(403);
  });

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

  it("refuses uploads and downloads from non-members", async () => {
    const alice = await user("media-nm-a");
    const eve = await user("media-nm-e");
    const room = uniqueRoom("media");
    await alice.createRoom(room);
    const up = await upload(alice.token, room, png(1000), { filename: "a.png" });
    await alice.call("POST", `/api/rooms/${room}/messages`, { content: "x", attachments: [up.body.mediaId] });

    const refused = await upload(eve.token, room, png(1000), { filename: "e.png" });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("not_member");
    expect((await eve.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "e.png", size: 100 })).body.error.code).toBe("not_member");
    expect((await download(`/api/rooms/${room}/media/${up.body.mediaId}`, { token: eve.token })).status).toBe(403);
    expect((await eve.call("GET", `/api/rooms/${room}/media/${up.body.mediaId}/url`)).status).toBe(403);
    expect(await roomObjects(room)).toHaveLength(1);
  });
});
