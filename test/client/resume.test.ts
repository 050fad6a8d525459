/**
 * A subscription whose socket drops reconnects by itself and resumes: the new
 * socket's hello carries the last applied position, and the replay is applied
 * once, in order, with what was already applied skipped.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionState, Message } from "../../src/client";
import { client, eventFrame, fakeServer, fakeSockets, liveFrame, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("resume after a drop", () => {
  it("reconnects with hello { after: last position } and applies the replay exactly once", async () => {
    const server = fakeServer();
    server.tickets();
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const received: Message[] = [];
    const states: ConnectionState[] = [];
    const subscribing = chat.subscribe("room", { onMessage: (m) => received.push(m), onConnectionState: (s) => states.push(s) });

    const first = await socketNo(sockets, 0);
    expect(first.url).toBe("wss://chat.test/api/rooms/room/ws?ticket=t1");
    first.accept();
    expect(first.frames[0]).toEqual({ type: "hello", protocol: 1 });
    first.frame(liveFrame("E", 0));
    const sub = await subscribing;
    for (const seq of [1, 2, 3]) first.frame(eventFrame("E", seq));
    await until(() => received.length === 3, "three live messages");
    expect(sub.position).toEqual({ epoch: "E", seq: 3 });

    first.drop(1006);
    await until(() => sub.state === "offline", "offline after the drop");
    await vi.advanceTimersByTimeAsync(250); // the first backoff is at most 250 ms
    const second = await socketNo(sockets, 1);
    expect(second.url).toBe("wss://chat.test/api/rooms/room/ws?ticket=t2");
    second.accept();
    expect(second.frames[0]).toEqual({ type: "hello", protocol: 1, after: { epoch: "E", seq: 3 } });

    // The replay overlaps what was applied (seq 3): it is skipped, not delivered twice.
    for (const seq of [3, 4, 5]) second.frame(eventFrame("E", seq));
    second.frame(liveFrame("E", 5));
    second.frame(eventFrame("E", 6));
    await until(() => received.length === 6, "replay and live messages");
    expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sub.state).toBe("live");
    expect(states).toEqual(["connecting", "live", "offline", "connecting", "live"]);
    sub.close();
  });
});
