/**
 * A socket that opens but is never answered (the server accepted the TCP
 * connection and then stalled) is given up after 10 s and retried, for room
 * subscriptions and the inbox alike.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { client, fakeServer, fakeSockets, liveFrame, socketNo } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const server = fakeServer();
  server.tickets();
  const { WebSocket, sockets } = fakeSockets();
  return { chat: client(server, WebSocket), sockets, server };
}

describe("connect timeout", () => {
  it("a room socket whose hello is never answered is dropped after 10 s, and the next one goes live", async () => {
    const { chat, sockets } = setup();
    let ready = false;
    const subscribing = chat.subscribe("room").then((sub) => ((ready = true), sub));
    const stalled = await socketNo(sockets, 0);
    stalled.accept();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(stalled.closedBy).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(stalled.closedBy).toEqual({ code: 4000, reason: "connect timeout" });
    expect(ready).toBe(false);

    await vi.advanceTimersByTimeAsync(250);
    const next = await socketNo(sockets, 1);
    next.accept();
    next.frame(liveFrame("E", 0));
    const sub = await subscribing;
    expect(sub.state).toBe("live");
    // Answered in time: the timeout no longer applies.
    await vi.advanceTimersByTimeAsync(15_000);
    expect(next.closedBy).toBeNull();
    sub.close();
  });

  it("an inbox socket that never brings its state is dropped after 10 s, even before it opens", async () => {
    const { chat, sockets } = setup();
    const subscribing = chat.subscribeInbox();
    const stalled = await socketNo(sockets, 0); // never even accepted
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stalled.closedBy).toEqual({ code: 4000, reason: "connect timeout" });

    await vi.advanceTimersByTimeAsync(250);
    const next = await socketNo(sockets, 1);
    next.accept();
    next.frame({ type: "inbox_state", rooms: [] });
    const inbox = await subscribing;
    expect(inbox.state).toBe("live");
    inbox.close();
  });
});
