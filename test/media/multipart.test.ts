import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { uniqueRoom, user } from "../helpers";
import { BASE, MiB, download, equalBytes, html, png, put, roomObjects } from "./fixtures";

describe("resumable (multipart) uploads", () => {
  it("resumes from the last finished part after a part is cut off half way", async () => {
    const alice = await user("mp-alice");
    const room = uniqueRoom("mp");
    await alice.createRoom(room);
    const file = png(5 * MiB + 300_000, 4000, 3000);
    const created = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "big.png", contentType: "image/png", size: file.byteLength });
    expect(created.status).toBe(201);
    const { uploadId, mediaId, partSize, partCount } = created.body;
    expect(partSize).toBe(5 * MiB);
    expect(partCount).toBe(2);
    const base = `/api/rooms/${room}/media/uploads/${uploadId}`;

    expect((await put(alice.token, `${base}/parts/1`, file.slice(0, partSize))).status).toBe(200);

    // Part 2 dies half way: the stream errors after sending half its bytes.
    const part2 = file.slice(partSize);
    const half = part2.slice(0, part2.byteLength / 2);
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(half);
        controller.error(new Error("connection lost"));
      },
    });
    let failed = false;
    try {
      const res = await SELF.fetch(`${BASE}${base}/parts/2`, {
        method: "PUT",
        headers: { authorization: `Bearer ${alice.token}`, "content-length": String(part2.byteLength) },
        body: broken,
      });
      failed = res.status !== 200;
      await res.body?.cancel();
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);

    // Completing now is refused: part 2 is missing.
    expect((await alice.call("POST", `${base}/complete`)).body.error.code).toBe("invalid_request");

    // The client asks what is done and sends only the rest.
    const status = await alice.call("GET", base);
    expect(status.status).toBe(200);
    expect(status.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1]);
    expect((await put(alice.token, `${base}/parts/2`, part2)).status).toBe(200);

    const done = await alice.call("POST", `${base}/complete`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ mediaId, filename: "big.png", contentType: "image/png", size: file.byteLength, width: 4000, height: 3000 });

    const got = await download(`/api/rooms/${room}/media/${mediaId}`, { token: alice.token });
    expect(got.status).toBe(200);
    expect(equalBytes(got.bytes, file)).toBe(true);
    // Range reads cross the part boundary correctly.
    const across = await download(`/api/rooms/${room}/media/${mediaId}`, { token: alice.token, headers: { Range: `bytes=${partSize - 5}-${partSize + 4}` } });
    expect(equalBytes(across.bytes, file.slice(partSize - 5, partSize + 5))).toBe(true);
    expect(await roomObjects(room)).toHaveLength(1);
    // The upload is finished: its id no longer takes parts.
    expect((await alice.call("GET", base)).status).toBe(404);
  });

  it("refuses parts of the wrong size, and uploads of other users", async () => {
    const alice = await user("mp-size-a");
    const bob = await user("mp-size-b");
    const room = uniqueRoom("mp");
    await alice.createRoom(room);
    await bob.join(room);
    const created = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "x.png", size: 1000 });
    const base = `/api/rooms/${room}/media/uploads/${created.body.uploadId}`;
    expect(created.body.partCount).toBe(1);
    expect((await put(alice.token, `${base}/parts/1`, png(999))).body.error.code).toBe("invalid_request");
    expect((await put(alice.token, `${base}/parts/2`, png(1000))).body.error.code).toBe("invalid_request");
    expect((await put(bob.token, `${base}/parts/1`, png(1000))).status).toBe(404);
    expect((await bob.call("GET", base)).status).toBe(404);
    expect((await put(alice.token, `${base}/parts/1`, png(1000))).status).toBe(200);
    expect((await alice.call("POST", `${base}/complete`)).status).toBe(200);
  });

  it("decides the type from part 1 and cancels an upload whose first bytes are not accepted", async () => {
    const alice = await user("mp-sniff");
    const room = uniqueRoom("mp");
    await alice.createRoom(room);
    const page = html();
    const created = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "cat.png", contentType: "image/png", size: page.byteLength });
    const base = `/api/rooms/${room}/media/uploads/${created.body.uploadId}`;
    const refused = await put(alice.token, `${base}/parts/1`, page);
    expect(refused.status).toBe(415);
    expect(refused.body.error.code).toBe("unsupported_media_type");
    expect((await alice.call("GET", base)).status).toBe(404);
    expect(await roomObjects(room)).toEqual([]);
  });
});
