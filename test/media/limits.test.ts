import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { decideQuota } from "../../src/user/limits";
import { uniqueRoom, user } from "../helpers";
import { BASE, MiB, png, roomObjects, upload } from "./fixtures";

/** A body that declares `length` bytes and never sends one: answered only if the server does not read it. */
function silentBody(length: number): ReadableStream<Uint8Array> {
  return new FixedLengthStream(length).readable as ReadableStream<Uint8Array>;
}

describe("media limits", () => {
  it("refuses a declared Content-Length over the default 25 MiB limit without reading the body", async () => {
    const alice = await user("lim-declared");
    const room = uniqueRoom("lim");
    await alice.createRoom(room);
    const started = Date.now();
    const res = await SELF.fetch(`${BASE}/api/rooms/${room}/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}`, "x-filename": "huge.png" },
      body: silentBody(26 * MiB),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("content_too_large");
    expect(Date.now() - started).toBeLessThan(5000);
    // Resumable uploads are refused up front too.
    const mp = await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "huge.png", size: 26 * MiB });
    expect(mp.status).toBe(413);
  });

  it("cuts off a body of undeclared length once it passes the limit, leaving nothing in R2", async () => {
    const alice = await user("lim-chunked");
    const room = uniqueRoom("lim");
    await alice.createRoom(room);
    // The test config's limit is 12 MiB: send 13 MiB in 1 MiB chunks, without Content-Length.
    const head = png(MiB);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 13) return controller.close();
        controller.enqueue(sent === 0 ? head : new Uint8Array(MiB));
        sent++;
      },
    });
    const res = await upload(alice.token, room, body, { filename: "stream.png" });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("content_too_large");
    expect(await roomObjects(room)).toEqual([]);

    // Under the limit, the same kind of body is stored (in parts, past 5 MiB).
    let n = 0;
    const ok = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n >= 6) return controller.close();
        controller.enqueue(n === 0 ? head : new Uint8Array(MiB).fill(n));
        n++;
      },
    });
    const stored = await upload(alice.token, room, ok, { filename: "stream.png" });
    expect(stored.status).toBe(201);
    expect(stored.body.size).toBe(6 * MiB);
    expect(await roomObjects(room)).toHaveLength(1);
  });

  it("limits upload bytes per user per hour with rate_limited and Retry-After", async () => {
    const alice = await user("lim-quota");
    const room = uniqueRoom("lim");
    await alice.createRoom(room);
    // The test config allows 16 MiB per hour. A resumable upload is charged its declared size up front.
    expect((await alice.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "a.png", size: 11 * MiB })).status).toBe(201);
    const res = await SELF.fetch(`${BASE}/api/rooms/${room}/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}`, "x-filename": "b.png" },
      body: silentBody(6 * MiB),
    });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3000);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Smaller files still fit; other users are not affected.
    expect((await upload(alice.token, room, png(1000), { filename: "c.png" })).status).toBe(201);
    const bob = await user("lim-quota-b");
    await bob.join(room);
    expect((await bob.call("POST", `/api/rooms/${room}/media/uploads`, { filename: "d.png", size: 11 * MiB })).status).toBe(201);
  });

  it("counts the quota over a rolling hour", () => {
    const minute = 60_000;
    const now = 1000 * minute + 30_000;
    const buckets = [
      { minute: 1000 - 50, bytes: 100 },
      { minute: 1000 - 10, bytes: 50 },
      { minute: 1000 - 61, bytes: 1_000_000 }, // expired
    ];
    expect(decideQuota(buckets, 50, 200, now)).toEqual({ ok: true, used: 200 });
    const refused = decideQuota(buckets, 100, 200, now);
    expect(refused.ok).toBe(false);
    // The oldest live bucket (minute -50) expires in 10 minutes minus 30 s.
    expect(refused.ok ? 0 : refused.retryAfter).toBe(10 * 60 - 30);
    expect(decideQuota([], 300, 200, now)).toMatchObject({ ok: false, retryAfter: 3600 });
  });
});
