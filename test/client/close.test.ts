/**
 * close() ends a subscription at once: the socket is closed with 1000, no
 * handler hears anything after it (not even a gap fill that was on its way),
 * a subscribe still waiting rejects with `cancelled`, and nothing reconnects.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RoomEvent } from "../../src/client";
import { client, fakeServer, fakeSockets, gate, json, liveFrame, messageEvent, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("close()", () => {
  it("nothing is delivered after close, even a gap fill in flight", async () => {
    const server = fakeServer();
    server.tickets();
    const held = gate<void>();
    server.on("GET", "/api/rooms/room/messages", async () => {
      await held.promise;
      return json({ messages: [], events: [messageEvent(2), messageEvent(3)], nextCursor: null, headSeq: 3, epoch: "E" });
    });
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const events: RoomEvent[] = [];
    const states: string[] = [];
    const first = chat.subscribe("room", { onEvent: (e) => events.push(e), onConnectionState: (s) => states.push(s) }, { after: { epoch: "E", seq: 1 } });
    const socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame({ type: "resync", roomId: "room", reason: "too_far_behind", epoch: "E", seq: 3, historyCursor: "c" });
    socket.frame(liveFrame("E", 3));
    await until(() => server.requests.some((r) => r.path.endsWith("/messages")), "the gap fill started");

    chat.close();
    expect(await first.catch((e: unknown) => e)).toMatchObject({ code: "cancelled", message: "subscription closed" });
    expect(socket.closedBy).toEqual({ code: 1000, reason: "closed by client" });
    held.open();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(events).toEqual([]);
    expect(states).toEqual(["connecting"]);
    expect(sockets).toHaveLength(1);
  });

  it("closing while the ticket is being fetched opens no socket", async () => {
    const server = fakeServer();
    const ticket = gate<Response>();
    server.on("POST", "/api/inbox/connect-ticket", () => ticket.promise);
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const subscribing = chat.subscribeInbox().catch((e: unknown) => e);
    await until(() => server.requests.length === 1, "the ticket asked for");
    chat.close();
    ticket.open(json({ ticket: "t", url: "/api/inbox/ws?user=bob&ticket=t", expiresTs: "2026-01-01T00:00:00.000Z" }));
    expect(await subscribing).toMatchObject({ code: "cancelled", message: "inbox closed" });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sockets).toHaveLength(0);
  });
});
