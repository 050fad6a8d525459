/** Media upload and download: byte-for-byte round trips, attachments on messages, members only. */
import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";
import { download, equalBytes, png, roomObjects, upload } from "./fixtures";

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
