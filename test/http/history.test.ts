/** History reads: limits, order, cursors, time bounds and newer-than reads. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { clockPast, errorOf, uniqueRoom, user } from "../helpers";

type User = Awaited<ReturnType<typeof user>>;

/** A room owned by alice with `n` messages from her, sent straight to the room object. */
async function seededRoom(n: number) {
  const alice = await user("alice");
  const room = uniqueRoom("hist");
  expect((await alice.createRoom(room)).status).toBe(201);
  const messages = await seed(room, "alice", n, "m");
  return { alice, room, messages };
}

async function seed(room: string, sender: string, n: number, prefix: string): Promise<Message[]> {
  const stub = env.ROOMS.getByName(room);
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const result = await stub.sendMessage(sender, { content: `${prefix}${i}` });
    if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.error)}`);
    out.push(result.value as Message);
  }
  return out;
}

/** Three batches whose timestamps are strictly apart, so time bounds have a unique answer. */
async function roomWithThreeEras() {
  const { alice, room } = await seededRoom(0);
  const old = await seed(room, "alice", 8, "old");
  await clockPast(old.at(-1)!.ts);
  const mid = await seed(room, "alice", 12, "mid");
  await clockPast(mid.at(-1)!.ts);
  const recent = await seed(room, "alice", 8, "new");
  // Preconditions: the batches do not share a millisecond.
  expect(Date.parse(mid[0]!.ts)).toBeGreaterThan(Date.parse(old.at(-1)!.ts));
  expect(Date.parse(recent[0]!.ts)).toBeGreaterThan(Date.parse(mid.at(-1)!.ts));
  return { alice, room, old, mid, recent };
}

async function page(u: User, room: string, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const res = await u.history(room, qs);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { messages: Message[]; nextCursor: string | null; headSeq: number; epoch: string };
}

/** Follows nextCursor from a first query until it is null; returns the pages. */
async function allPages(u: User, room: string, query: Record<string, string | number>, maxPages = 50) {
  const pages = [await page(u, room, query)];
  while (pages.at(-1)!.nextCursor !== null) {
    if (pages.length >= maxPages) throw new Error("too many pages");
    const { limit } = query;
    pages.push(await page(u, room, { ...(limit !== undefined ? { limit } : {}), cursor: pages.at(-1)!.nextCursor! }));
  }
  return pages;
}

const contents = (ms: Message[]) => ms.map((m) => m.content);
const isChronological = (ms: Message[]) => ms.every((m, i) => i === 0 || (m.seq > ms[i - 1]!.seq && m.ts >= ms[i - 1]!.ts));

describe("GET /api/rooms/{roomId}/messages: limits and order", () => {
  it("returns the newest 50 messages by default, oldest first, with a cursor for more", async () => {
    const { alice, room, messages } = await seededRoom(60);
    const body = await page(alice, room, {});
    expect(body.messages).toHaveLength(50);
    expect(contents(body.messages)).toEqual(contents(messages.slice(10)));
    expect(isChronological(body.messages)).toBe(true);
    expect(body.nextCursor).toEqual(expect.any(String));
  });

  it("reports the room's head seq and epoch with each page", async () => {
    const { alice, room, messages } = await seededRoom(3);
    const body = await page(alice, room, {});
    expect(body.headSeq).toBe(messages.at(-1)!.seq);
    expect(body.epoch).toEqual(expect.any(String));
    expect(body.epoch.length).toBeGreaterThan(0);
    expect((await page(alice, room, { limit: 1 })).epoch).toBe(body.epoch);
  });

  it("holds only messages, not membership events", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom("hist");
    await alice.createRoom(room);
    await bob.join(room);
    await bob.send(room, "hello");
    await bob.leave(room);
    const body = await page(alice, room, {});
    expect(contents(body.messages)).toEqual(["hello"]);
    expect(body.headSeq).toBe(4);
  });

  it("returns an empty page with no cursor for a room without messages", async () => {
    const { alice, room } = await seededRoom(0);
    const body = await page(alice, room, {});
    expect(body.messages).toEqual([]);
    expect(body.nextCursor).toBeNull();
  });

  it("allows limit 200 and returns everything when fewer exist, with no cursor", async () => {
    const { alice, room, messages } = await seededRoom(60);
    const body = await page(alice, room, { limit: 200 });
    expect(contents(body.messages)).toEqual(contents(messages));
    expect(body.nextCursor).toBeNull();
  });

  it("returns no cursor when the page holds exactly the oldest message", async () => {
    const { alice, room } = await seededRoom(10);
    expect((await page(alice, room, { limit: 10 })).nextCursor).toBeNull();
    expect((await page(alice, room, { limit: 9 })).nextCursor).not.toBeNull();
  });

  it.each([["201"], ["0"], ["-1"], ["abc"], ["1.5"]])("rejects limit=%s as invalid_request", async (limit) => {
    const { alice, room } = await seededRoom(1);
    expect(errorOf(await alice.history(room, `limit=${limit}`))).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
  });

  it("answers 403 not_member to a non-member and 404 room_not_found for an unknown room", async () => {
    const { room } = await seededRoom(1);
    const mallory = await user("mallory");
    expect(errorOf(await mallory.history(room))).toEqual({ status: 403, code: "not_member", hasMessage: true });
    expect(errorOf(await mallory.history(uniqueRoom("missing"))).code).toBe("room_not_found");
  });
});

describe("GET /api/rooms/{roomId}/messages: cursors", () => {
  it("pages from newest to oldest over 250 messages with limit 60, each message exactly once", async () => {
    const { alice, room, messages } = await seededRoom(250);
    const pages = await allPages(alice, room, { limit: 60 });
    expect(pages.map((p) => p.messages.length)).toEqual([60, 60, 60, 60, 10]);
    for (const p of pages) expect(isChronological(p.messages)).toBe(true);
    // Each page is older than the one before it.
    for (let i = 1; i < pages.length; i++) expect(pages[i]!.messages.at(-1)!.seq).toBeLessThan(pages[i - 1]!.messages[0]!.seq);
    const seen = pages.flatMap((p) => p.messages.map((m) => m.id));
    expect(new Set(seen).size).toBe(250);
    const stitched = pages.reverse().flatMap((p) => p.messages);
    expect(stitched.map((m) => m.id)).toEqual(messages.map((m) => m.id));
    expect(pages[0]!.nextCursor).toBeNull(); // reversed: the last page fetched
  });

  it("a cursor keeps paging the same history while newer messages arrive", async () => {
    const { alice, room, messages } = await seededRoom(30);
    const first = await page(alice, room, { limit: 10 });
    await seed(room, "alice", 5, "later");
    const second = await page(alice, room, { limit: 10, cursor: first.nextCursor! });
    expect(contents(second.messages)).toEqual(contents(messages.slice(10, 20)));
  });

  it.each([
    ["garbage", "not-a-cursor!!"],
    ["base64 of non-JSON", "aGVsbG8"],
    ["base64 of JSON without a bound", "e30"],
    ["base64 of a negative bound", btoa(JSON.stringify({ b: -5 })).replaceAll("=", "")],
    ["over 512 characters", "A".repeat(513)],
  ])("rejects a %s cursor as invalid_request", async (_name, cursor) => {
    const { alice, room } = await seededRoom(3);
    expect(errorOf(await alice.history(room, `cursor=${encodeURIComponent(cursor)}`))).toEqual({
      status: 400,
      code: "invalid_request",
      hasMessage: true,
    });
  });
});

describe("GET /api/rooms/{roomId}/messages: time bounds", () => {
  it("beforeTs returns only messages strictly older than the given time", async () => {
    const { alice, room, old, mid } = await roomWithThreeEras();
    const body = await page(alice, room, { beforeTs: mid[0]!.ts, limit: 200 });
    expect(contents(body.messages)).toEqual(contents(old));
    // A message exactly at beforeTs is excluded.
    expect(body.messages.every((m) => m.ts < mid[0]!.ts)).toBe(true);
  });

  it("beforeTs pages back with a cursor and never crosses the bound", async () => {
    const { alice, room, old, mid } = await roomWithThreeEras();
    const pages = await allPages(alice, room, { beforeTs: mid.at(-1)!.ts, limit: 5 });
    const all = pages.reverse().flatMap((p) => p.messages);
    const expected = [...old, ...mid].filter((m) => m.ts < mid.at(-1)!.ts);
    expect(contents(all)).toEqual(contents(expected));
  });

  it("from/to returns the half-open range [from, to)", async () => {
    const { alice, room, mid, recent } = await roomWithThreeEras();
    const body = await page(alice, room, { from: mid[0]!.ts, to: recent[0]!.ts, limit: 200 });
    expect(contents(body.messages)).toEqual(contents(mid));
    expect(body.nextCursor).toBeNull();
  });

  it("from alone returns everything at or after it; to alone everything before it", async () => {
    const { alice, room, old, mid, recent } = await roomWithThreeEras();
    expect(contents((await page(alice, room, { from: recent[0]!.ts, limit: 200 })).messages)).toEqual(contents(recent));
    expect(contents((await page(alice, room, { to: mid[0]!.ts, limit: 200 })).messages)).toEqual(contents(old));
  });

  it("a cursor from a time-range read keeps the lower bound", async () => {
    const { alice, room, mid, recent } = await roomWithThreeEras();
    const pages = await allPages(alice, room, { from: mid[0]!.ts, limit: 5 });
    expect(pages.length).toBeGreaterThan(2);
    const all = pages.reverse().flatMap((p) => p.messages);
    expect(contents(all)).toEqual(contents([...mid, ...recent]));
  });

  it("a cursor from a from/to read keeps both bounds", async () => {
    const { alice, room, mid, recent } = await roomWithThreeEras();
    const pages = await allPages(alice, room, { from: mid[0]!.ts, to: recent[0]!.ts, limit: 5 });
    expect(pages.map((p) => p.messages.length)).toEqual([5, 5, 2]);
    expect(contents(pages.reverse().flatMap((p) => p.messages))).toEqual(contents(mid));
  });

  it("accepts times with an offset and rejects times that are not ISO 8601", async () => {
    const { alice, room, old, mid } = await roomWithThreeEras();
    const bound = new Date(Date.parse(mid[0]!.ts));
    // The same instant written at +02:00.
    const local = new Date(bound.getTime() + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    expect(contents((await page(alice, room, { beforeTs: local, limit: 200 })).messages)).toEqual(contents(old));
    for (const q of ["beforeTs=yesterday", "from=2024-13-01T00:00:00Z", "to=12345"]) {
      expect(errorOf(await alice.history(room, q)).code, q).toBe("invalid_request");
    }
  });

  it("an empty range gives an empty page without a cursor", async () => {
    const { alice, room, mid } = await roomWithThreeEras();
    const body = await page(alice, room, { from: mid[0]!.ts, to: mid[0]!.ts });
    expect(body.messages).toEqual([]);
    expect(body.nextCursor).toBeNull();
  });
});

describe("GET /api/rooms/{roomId}/messages: afterSeq", () => {
  it("returns messages with seq greater than afterSeq, oldest first", async () => {
    const { alice, room, messages } = await seededRoom(20);
    const after = messages[4]!.seq;
    const body = await page(alice, room, { afterSeq: after, limit: 200 });
    expect(contents(body.messages)).toEqual(contents(messages.slice(5)));
    expect(body.messages.every((m) => m.seq > after)).toBe(true);
    expect(body.nextCursor).toBeNull();
  });

  it("takes the oldest `limit` messages after afterSeq", async () => {
    const { alice, room, messages } = await seededRoom(20);
    const body = await page(alice, room, { afterSeq: messages[0]!.seq, limit: 3 });
    expect(contents(body.messages)).toEqual(contents(messages.slice(1, 4)));
  });

  it("returns nothing after the head and everything after 0", async () => {
    const { alice, room, messages } = await seededRoom(5);
    expect((await page(alice, room, { afterSeq: messages.at(-1)!.seq })).messages).toEqual([]);
    expect(contents((await page(alice, room, { afterSeq: 0 })).messages)).toEqual(contents(messages));
  });

  it("rejects a negative or non-integer afterSeq as invalid_request", async () => {
    const { alice, room } = await seededRoom(1);
    expect(errorOf(await alice.history(room, "afterSeq=-1")).code).toBe("invalid_request");
    expect(errorOf(await alice.history(room, "afterSeq=x")).code).toBe("invalid_request");
  });
});
