/**
 * The send outbox retries a send through network failures, server errors and
 * rate limits with the same clientId (so the server stores it once), waits as
 * long as Retry-After says, and gives up at once on a permanent refusal.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatError } from "../../src/client";
import { client, errorAnswer, fakeServer, json, message, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("send outbox", () => {
  it("retries with the same clientId until the message is stored", async () => {
    const server = fakeServer();
    const answers = [
      () => Promise.reject(new TypeError("fetch failed")),
      () => errorAnswer("internal", 503),
      () => errorAnswer("rate_limited", 429, { "Retry-After": "3" }),
      () => json({ ...message(7, "hello"), clientId: "c-1" }, 201),
    ];
    server.on("POST", "/api/rooms/room/messages", () => answers.shift()!());
    const posts = () => server.requests.filter((r) => r.method === "POST");

    vi.spyOn(Math, "random").mockReturnValue(0); // backoffs of exactly 125 and 250 ms
    let stored: unknown;
    void client(server).sendMessage("room", "hello", { clientId: "c-1" }).then((m) => (stored = m));
    await until(() => posts().length === 1, "the first attempt");
    await vi.advanceTimersByTimeAsync(125);
    await until(() => posts().length === 2, "the retry after a network error");
    await vi.advanceTimersByTimeAsync(250);
    await until(() => posts().length === 3, "the retry after a 503");
    // Retry-After: 3 holds the fourth attempt back three seconds.
    await vi.advanceTimersByTimeAsync(2_900);
    expect(posts()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(100);
    await until(() => stored !== undefined, "the send resolved");
    expect(posts().map((r) => r.body)).toEqual(Array(4).fill({ content: "hello", clientId: "c-1" }));
    expect(stored).toMatchObject({ seq: 7, content: "hello", clientId: "c-1" });
  });

  it("generates one clientId per send and keeps it across retries", async () => {
    const server = fakeServer();
    let failures = 2;
    server.on("POST", "/api/rooms/room/messages", () => (failures-- > 0 ? errorAnswer("internal", 500) : json(message(1), 201)));
    const sending = client(server).sendMessage("room", "hi");
    await vi.advanceTimersByTimeAsync(1_000); // two backoffs: at most 250 + 500 ms
    await sending;
    const ids = server.requests.map((r) => (r.body as { clientId: string }).clientId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it("a permanent refusal rejects at once, without a retry", async () => {
    const server = fakeServer();
    server.on("POST", "/api/rooms/room/messages", () => errorAnswer("not_member", 403));
    const error = await client(server).sendMessage("room", "hi").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: "not_member", status: 403 });
    expect(server.requests).toHaveLength(1);
  });

  it("an abort during the wait rejects with cancelled and stops retrying", async () => {
    const server = fakeServer();
    server.on("POST", "/api/rooms/room/messages", () => errorAnswer("internal", 500));
    const controller = new AbortController();
    const sending = client(server).sendMessage("room", "hi", { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => server.requests.length === 1, "the first attempt");
    controller.abort();
    expect(await sending).toMatchObject({ code: "cancelled", message: "send was cancelled" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.requests).toHaveLength(1);
  });
});
