/**
 * Media through the SDK against `npm start` (wrangler dev with local R2): a
 * byte-for-byte round trip through a signed URL, and a resumable upload that
 * loses a part, retries it, fails for good, and is resumed by a new client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatClient, MediaUploadError } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

const MiB = 1024 * 1024;

function png(size: number, width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52], 0);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x49, 0x44, 0x41, 0x54], 24);
  return bytes;
}

const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

let chat: LocalChat;

beforeAll(async () => {
  chat = await startLocalChat();
});

afterAll(async () => {
  await chat?.stop();
});

describe("media over npm start", () => {
  it("uploads with the SDK, attaches, and another member downloads the same bytes through a signed URL", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    await alice.createRoom("photos");
    await bob.joinRoom("photos");
    const file = png(300_000, 1920, 1080);
    const progress: number[] = [];
    const media = await alice.uploadMedia("photos", file, { filename: "beach.png", contentType: "image/png", onProgress: (sent) => progress.push(sent) });
    expect(media).toMatchObject({ filename: "beach.png", contentType: "image/png", size: file.byteLength, width: 1920, height: 1080 });
    expect(progress.at(-1)).toBe(file.byteLength);

    const message = await alice.sendMessage("photos", "", { attachments: [media.mediaId] });
    expect(message.attachments).toEqual([media]);
    const page = await bob.getHistory("photos");
    expect(page.messages.at(-1)?.attachments?.[0]?.mediaId).toBe(media.mediaId);

    // The URL needs no header: as an <img src> would load it.
    const url = await bob.mediaUrl("photos", media.mediaId);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(same(new Uint8Array(await res.arrayBuffer()), file)).toBe(true);
    const ranged = await fetch(url, { headers: { Range: "bytes=1000-1999" } });
    expect(ranged.status).toBe(206);
    expect(same(new Uint8Array(await ranged.arrayBuffer()), file.slice(1000, 2000))).toBe(true);
    alice.close();
    bob.close();
  });

  it("retries a failed part, and resumes an interrupted upload from the parts already stored", async () => {
    const token = await chat.token("carol");
    const puts: string[] = [];
    let failPart2 = "once" as "once" | "always" | "never";
    const flaky: typeof fetch = async (input, init) => {
      const url = String(input);
      if (init?.method === "PUT") {
        const part = /\/parts\/(\d+)$/.exec(url)?.[1] ?? "?";
        puts.push(part);
        if (part === "2" && failPart2 !== "never") {
          if (failPart2 === "once") failPart2 = "never";
          throw new TypeError("connection reset (simulated)");
        }
      }
      return fetch(input, init);
    };
    const carol = new ChatClient({ baseUrl: chat.baseUrl, token, fetch: flaky });
    await carol.createRoom("videos");

    // 11 MiB: three parts of 5 MiB (the last 1 MiB). Part 2 fails once and is retried by itself.
    const file = png(11 * MiB, 800, 600);
    const sent: number[] = [];
    const first = await carol.uploadMedia("videos", file, { filename: "clip.png", onProgress: (n) => sent.push(n) });
    expect(puts).toEqual(["1", "2", "2", "3"]);
    expect(sent).toEqual([0, 5 * MiB, 10 * MiB, 11 * MiB]);
    expect(first.size).toBe(file.byteLength);

    // Now part 2 keeps failing: the upload gives up with its id...
    puts.length = 0;
    failPart2 = "always";
    const second = png(11 * MiB, 640, 480);
    const error = await carol.uploadMedia("videos", second, { filename: "again.png", partAttempts: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaUploadError);
    const uploadId = (error as MediaUploadError).uploadId;
    expect(puts).toEqual(["1", "2", "2"]);

    // ...and a fresh client (a reload) resumes it: only parts 2 and 3 are sent.
    puts.length = 0;
    failPart2 = "never";
    const resumed = new ChatClient({ baseUrl: chat.baseUrl, token, fetch: flaky });
    const progress: number[] = [];
    const media = await resumed.uploadMedia("videos", second, { resumeUploadId: uploadId, onProgress: (n) => progress.push(n) });
    expect(puts).toEqual(["2", "3"]);
    expect(progress[0]).toBe(5 * MiB);
    expect(media).toMatchObject({ filename: "again.png", contentType: "image/png", size: second.byteLength, width: 640, height: 480 });

    await resumed.sendMessage("videos", "two clips", { attachments: [first.mediaId, media.mediaId] });
    for (const [m, bytes] of [[first, file], [media, second]] as const) {
      const res = await fetch(await resumed.mediaUrl("videos", m.mediaId));
      expect(same(new Uint8Array(await res.arrayBuffer()), bytes)).toBe(true);
    }
  });
});
