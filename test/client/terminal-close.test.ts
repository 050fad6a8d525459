/**
 * Close codes that reconnecting cannot fix end a room subscription for good
 * (not a member, room deleted, protocol unsupported); any other close is
 * retried. The inbox retries every close.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ChatError, type ConnectionState } from "../../src/client";
import { client, fakeServer, fakeSockets, liveFrame, socketNo, until } from "./fakes";

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

describe("close codes", () => {
  it("4003 after going live ends the subscription with not_member, without reconnecting", async () => {
    const { chat, sockets } = setup();
    const errors: ChatError[] = [];
    const states: ConnectionState[] = [];
    const subscribing = chat.subscribe("room", { onError: (e) => errors.push(e), onConnectionState: (s) => states.push(s) });
    const socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame(liveFrame("E", 0));
    const sub = await subscribing;
    socket.drop(4003, "not_member");
    await until(() => errors.length === 1, "the error reported");
    expect(errors[0]!.code).toBe("not_member");
    expect(sub.state).toBe("offline");
    expect(states).toEqual(["connecting", "live", "offline"]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sockets).toHaveLength(1);
  });

  it("4004 before going live rejects subscribe with room_deleted and reports the deletion once", async () => {
    const { chat, sockets } = setup();
    const deleted: unknown[] = [];
    const subscribing = chat.subscribe("room", { onRoomDeleted: (info) => deleted.push(info) }).catch((e: unknown) => e);
    const socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame({ type: "error", reqId: null, error: { code: "room_deleted", message: "gone" } });
    socket.drop(4004, "room_deleted");
    expect(await subscribing).toMatchObject({ code: "room_deleted" });
    expect(deleted).toEqual([{ roomId: "room" }]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sockets).toHaveLength(1);
  });

  it("other closes (too slow, token expired, going away) are retried", async () => {
    const { chat, sockets } = setup();
    const subscribing = chat.subscribe("room");
    let socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame(liveFrame("E", 0));
    const sub = await subscribing;
    for (const [n, code] of [4008, 4401, 1001].entries()) {
      socket.drop(code);
      await vi.advanceTimersByTimeAsync(250);
      socket = await socketNo(sockets, n + 1);
      socket.accept();
      socket.frame(liveFrame("E", 0));
      await until(() => sub.state === "live", `live again after ${code}`);
    }
    sub.close();
  });

  it("the inbox retries even a 4003", async () => {
    const { chat, sockets } = setup();
    const subscribing = chat.subscribeInbox();
    const socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame({ type: "inbox_state", rooms: [] });
    const inbox = await subscribing;
    socket.drop(4003);
    await vi.advanceTimersByTimeAsync(250);
    await socketNo(sockets, 1);
    inbox.close();
  });
});
