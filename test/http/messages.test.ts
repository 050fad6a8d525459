/** Sending messages over HTTP: the stored shape, access and content rules. */
import { describe, expect, it } from "vitest";
import { ISO_MS, api, errorOf, uniqueRoom, user } from "../helpers";

const MAX_BYTES = 16384;

async function roomWith(...names: string[]) {
  const [owner, ...others] = await Promise.all(names.map((n) => user(n)));
  const room = uniqueRoom();
  expect((await owner!.createRoom(room)).status).toBe(201);
  for (const u of others) expect((await u.join(room)).status).toBe(200);
  return { room, owner: owner!, others };
}

describe("POST /api/rooms/{roomId}/messages", () => {
  it("stores the message and answers 201 with id, roomId, seq, sender, content and an ISO ms UTC ts", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const before = Date.now();
    const res = await alice.send(room, "Hello, world");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ roomId: room, sender: "alice", content: "Hello, world" });
    expect(typeof res.body.id).toBe("string");
    expect(res.body.id.length).toBeGreaterThan(0);
    expect(Number.isInteger(res.body.seq) && res.body.seq > 0).toBe(true);
    expect(res.body.ts).toMatch(ISO_MS);
    expect(Date.parse(res.body.ts)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.body.ts)).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("echoes the clientId on the stored message", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const res = await alice.send(room, "with id", "client-1");
    expect(res.status).toBe(201);
    expect(res.body.clientId).toBe("client-1");
  });

  it("gives each message a distinct id", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await alice.send(room, `m${i}`)).body.id);
    expect(ids.size).toBe(5);
  });

  it("answers 403 not_member to a user who has not joined", async () => {
    const { room } = await roomWith("alice");
    const mallory = await user("mallory");
    expect(errorOf(await mallory.send(room, "hi"))).toEqual({ status: 403, code: "not_member", hasMessage: true });
  });

  it("answers 404 room_not_found for a room that does not exist", async () => {
    const alice = await user("alice");
    expect(errorOf(await alice.send(uniqueRoom("missing"), "hi"))).toEqual({ status: 404, code: "room_not_found", hasMessage: true });
  });

  it.each([
    ["empty", { content: "" }],
    ["missing", {}],
    ["a number", { content: 42 }],
    ["null", { content: null }],
    ["an object", { content: { text: "hi" } }],
  ])("rejects content that is %s as invalid_request", async (_name, body) => {
    const { room, owner: alice } = await roomWith("alice");
    expect(errorOf(await alice.call("POST", `/api/rooms/${room}/messages`, body))).toEqual({
      status: 400,
      code: "invalid_request",
      hasMessage: true,
    });
  });

  it("rejects malformed JSON as invalid_request", async () => {
    const { room, owner: alice } = await roomWith("alice");
    expect(errorOf(await alice.call("POST", `/api/rooms/${room}/messages`, '{"content": "hi"'))).toEqual({
      status: 400,
      code: "invalid_request",
      hasMessage: true,
    });
  });

  it.each([
    ["empty", ""],
    ["longer than 128 characters", "c".repeat(129)],
  ])("rejects a clientId that is %s as invalid_request", async (_name, clientId) => {
    const { room, owner: alice } = await roomWith("alice");
    expect(errorOf(await alice.send(room, "hi", clientId)).code).toBe("invalid_request");
  });

  it("accepts content of exactly 16384 UTF-8 bytes and refuses 16385 bytes with 413 content_too_large", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const atLimit = await alice.send(room, "x".repeat(MAX_BYTES));
    expect(atLimit.status).toBe(201);
    expect(atLimit.body.content).toHaveLength(MAX_BYTES);
    expect(errorOf(await alice.send(room, "x".repeat(MAX_BYTES + 1)))).toEqual({ status: 413, code: "content_too_large", hasMessage: true });
  });

  it("counts the limit in UTF-8 bytes, not characters", async () => {
    const { room, owner: alice } = await roomWith("alice");
    // "é" is 2 bytes: 8192 of them are exactly the limit, 8193 are over it at half the characters.
    expect((await alice.send(room, "é".repeat(MAX_BYTES / 2))).status).toBe(201);
    expect(errorOf(await alice.send(room, "é".repeat(MAX_BYTES / 2 + 1))).code).toBe("content_too_large");
    // "€" is 3 bytes in 1 UTF-16 unit; "😀" is 4 bytes in 2 UTF-16 units.
    expect(errorOf(await alice.send(room, "€".repeat(5462))).code).toBe("content_too_large"); // 16386 bytes, 5462 chars
    expect((await alice.send(room, "😀".repeat(MAX_BYTES / 4))).status).toBe(201); // 16384 bytes
    expect(errorOf(await alice.send(room, `${"😀".repeat(MAX_BYTES / 4)}a`)).code).toBe("content_too_large");
  });

  it("stores the content exactly, including multi-byte characters and whitespace", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const content = "  héllo\n\t😀 \u0000 \"quoted\" <b>tag</b>  ";
    const sent = await alice.send(room, content);
    expect(sent.body.content).toBe(content);
    const page = await alice.history(room);
    expect(page.body.messages.at(-1).content).toBe(content);
  });

  it("never stores content other than what it acknowledged: a lone surrogate is refused or kept as sent", async () => {
    const { room, owner: alice } = await roomWith("alice");
    // JSON can carry an unpaired UTF-16 surrogate; UTF-8 (and so SQLite) cannot.
    const body = '{"content":"a\\ud800b","clientId":"lone-surrogate"}';
    const sent = await alice.call("POST", `/api/rooms/${room}/messages`, body);
    if (sent.status !== 201) {
      expect(errorOf(sent).code).toBe("invalid_request");
      return;
    }
    // Compared as code points: a lone surrogate in a failure message would break the test runner's own socket.
    const codes = (text: string) => Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
    expect(codes(sent.body.content)).toEqual([0x61, 0xd800, 0x62]);
    const stored = (await alice.history(room)).body.messages.at(-1);
    expect(stored.id).toBe(sent.body.id);
    expect(codes(stored.content), "history differs from the 201 answer").toEqual(codes(sent.body.content));
    const retry = await alice.call("POST", `/api/rooms/${room}/messages`, body);
    expect(retry.body.id).toBe(sent.body.id);
    expect(codes(retry.body.content), "a retry answers differently from the first 201").toEqual(codes(sent.body.content));
  });

  it("refuses a request body over 256 KiB with 413 content_too_large", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const res = await api("POST", `/api/rooms/${room}/messages`, { token: alice.token, body: { content: "x".repeat(300 * 1024) } });
    expect(errorOf(res)).toEqual({ status: 413, code: "content_too_large", hasMessage: true });
  });
});
