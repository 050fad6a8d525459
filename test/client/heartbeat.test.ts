/**
 * A connection that goes silent is presumed dead even though no close event
 * came (a half-open TCP connection never sends one): with no frame, not even
 * a pong, for 50 s the socket is given up and a new one opened.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { client, fakeServer, fakeSockets, liveFrame, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function liveSubscription() {
  const server = fakeServer();
  server.tickets();
  const { WebSocket, sockets } = fakeSockets();
  const subscribing = client(server, WebSocket).subscribe("room");
  const socket = await socketNo(sockets, 0);
  socket.accept();
  socket.frame(liveFrame("E", 0));
  return { sub: await subscribing, socket, sockets };
}

describe("heartbeat", () => {
  it("no pong: the socket is closed as dead after 50 s of silence and a new one is opened", async () => {
    const { sub, socket, sockets } = await liveSubscription();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(socket.pings).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(socket.pings).toBe(2);
    expect(socket.closedBy).toBeNull();

    await vi.advanceTimersByTimeAsync(20_000); // 60 s of silence, checked at the third beat
    expect(socket.closedBy).toEqual({ code: 4000, reason: "heartbeat timeout" });
    expect(sub.state).toBe("offline");
    await vi.advanceTimersByTimeAsync(250);
    const next = await socketNo(sockets, 1);
    next.accept();
    next.frame(liveFrame("E", 0));
    await until(() => sub.state === "live", "live again");
    sub.close();
  });

  it("answered pings keep the socket open", async () => {
    const { sub, socket, sockets } = await liveSubscription();
    for (let beat = 0; beat < 6; beat++) {
      await vi.advanceTimersByTimeAsync(20_000);
      socket.frame("pong");
    }
    expect(socket.pings).toBe(6);
    expect(socket.closedBy).toBeNull();
    expect(sockets).toHaveLength(1);
    expect(sub.state).toBe("live");
    sub.close();
    expect(socket.closedBy).toEqual({ code: 1000, reason: "closed by client" });
  });
});
