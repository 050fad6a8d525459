import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";
import { download, html, png, roomObjects, upload } from "./fixtures";

// Reading dimensions from image headers is pure: test/unit/media/dimensions.test.ts.

describe("type sniffing", () => {
  it("treats a PNG named .exe as a PNG, and fixes its extension", async () => {
    const alice = await user("sniff-png");
    const room = uniqueRoom("sniff");
    await alice.createRoom(room);
    const res = await upload(alice.token, room, png(4000, 32, 16), { filename: "setup.exe", contentType: "application/x-msdownload" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ contentType: "image/png", filename: "setup.exe.png", width: 32, height: 16 });
    const got = await download(`/api/rooms/${room}/media/${res.body.mediaId}`, { token: alice.token });
    expect(got.headers.get("content-type")).toBe("image/png");
  });

  it("refuses an HTML page named .png, storing nothing", async () => {
    const alice = await user("sniff-html");
    const room = uniqueRoom("sniff");
    await alice.createRoom(room);
    const res = await upload(alice.token, room, html(), { filename: "cat.png", contentType: "image/png" });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
    expect(await roomObjects(room)).toEqual([]);
  });

  it("refuses types outside the allow-list (an SVG, a Windows executable)", async () => {
    const alice = await user("sniff-deny");
    const room = uniqueRoom("sniff");
    await alice.createRoom(room);
    const svg = new TextEncoder().encode('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect((await upload(alice.token, room, svg, { filename: "a.svg", contentType: "image/svg+xml" })).status).toBe(415);
    const exe = new Uint8Array(4096);
    exe.set([0x4d, 0x5a], 0); // "MZ"
    expect((await upload(alice.token, room, exe, { filename: "a.png", contentType: "image/png" })).status).toBe(415);
    expect(await roomObjects(room)).toEqual([]);
  });

  it("accepts plain text declared as such and serves it as an attachment", async () => {
    const alice = await user("sniff-text");
    const room = uniqueRoom("sniff");
    await alice.createRoom(room);
    const text = new TextEncoder().encode("meeting notes: ünïcode ok\n".repeat(100));
    const res = await upload(alice.token, room, text, { filename: "notes", contentType: "text/plain" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ contentType: "text/plain", filename: "notes.txt" });
    const got = await download(`/api/rooms/${room}/media/${res.body.mediaId}`, { token: alice.token });
    expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("content-disposition")).toMatch(/^attachment; filename="notes.txt"/);
    // Binary bytes declared as text are not text.
    const binary = new Uint8Array(100).fill(0);
    expect((await upload(alice.token, room, binary, { filename: "x.txt", contentType: "text/plain" })).status).toBe(415);
  });
});
