/** Signed media URLs: downloads without a bearer header, refused when tampered with or after leaving the room. */
import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";
import { download, equalBytes, png, upload } from "./fixtures";

describe("signed media URLs", () => {
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
});
