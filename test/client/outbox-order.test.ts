/**
 * Sends of one room go out one after another: a send being retried is never
 * overtaken by a later one, so messages are stored in the order they were
 * sent. Other rooms do not wait.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { client, errorAnswer, fakeServer, json, message, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("send order", () => {
  it("a later send to the same room waits for the earlier one's retries; another room's does not", async () => {
    const server = fakeServer();
    let seq = 0;
    let failFirst = true;
    server.on("POST", /^\/api\/rooms\/[^/]+\/messages$/, ({ path, body }) => {
      const content = (body as { content: string }).content;
      if (content === "first" && failFirst) {
        failFirst = false;
        return errorAnswer("internal", 503);
      }
      return json({ ...message(++seq, content, path.split("/")[3]!) }, 201);
    });
    const chat = client(server);
    const contents = () => server.requests.map((r) => (r.body as { content: string }).content);

    const first = chat.sendMessage("room", "first");
    const second = chat.sendMessage("room", "second");
    const elsewhere = chat.sendMessage("other", "elsewhere");
    await until(() => contents().includes("elsewhere"), "the other room's send");
    expect(contents()).toEqual(["first", "elsewhere"]); // "second" waits behind the failed "first"

    await vi.advanceTimersByTimeAsync(250);
    expect((await first).content).toBe("first");
    expect((await second).content).toBe("second");
    await elsewhere;
    expect(contents()).toEqual(["first", "elsewhere", "first", "second"]);
  });
});
