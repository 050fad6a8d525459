/**
 * The inbox reconnects by itself after a drop, and the state frame the new
 * socket opens with is applied again in full: rooms replaced, onState and the
 * unread counts reported anew. Notices older than what is known are ignored.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionState, InboxRoom } from "../../src/client";
import { TS, client, fakeServer, fakeSockets, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const room = (roomId: string, seq: number, unreadCount: number): InboxRoom => ({ roomId, seq, state: "member", unreadCount, lastActivityTs: TS });

describe("inbox reconnection", () => {
  it("re-applies the state frame of the new socket after a drop", async () => {
    const server = fakeServer();
    server.tickets();
    const { WebSocket, sockets } = fakeSockets();
    const states: ConnectionState[] = [];
    const snapshots: string[][] = [];
    const unread: Array<[string, number]> = [];
    const activity: string[] = [];
    const subscribing = client(server, WebSocket).subscribeInbox({
      onConnectionState: (s) => states.push(s),
      onState: (rooms) => snapshots.push(rooms.map((r) => `${r.roomId}@${r.seq}`)),
      onUnread: ({ roomId, unreadCount }) => unread.push([roomId, unreadCount]),
      onActivity: (r) => activity.push(`${r.roomId}@${r.seq}`),
    });

    const first = await socketNo(sockets, 0);
    expect(first.url).toBe("wss://chat.test/api/inbox/ws?user=bob&ticket=t1");
    first.accept();
    first.frame({ type: "inbox_state", rooms: [room("a", 1, 0), room("b", 4, 2)] });
    const inbox = await subscribing;
    first.frame({ type: "inbox", kind: "activity", room: room("a", 2, 1) });
    first.frame({ type: "inbox", kind: "activity", room: room("a", 1, 0) }); // late and older: ignored
    expect(activity).toEqual(["a@2"]);

    first.drop(4001, "heartbeat timeout");
    await until(() => inbox.state === "offline", "offline after the drop");
    await vi.advanceTimersByTimeAsync(250);
    const second = await socketNo(sockets, 1);
    expect(second.url).toBe("wss://chat.test/api/inbox/ws?user=bob&ticket=t2");
    second.accept();
    // While away: a message in b, and c joined. The state frame says it all.
    second.frame({ type: "inbox_state", rooms: [room("a", 2, 1), room("b", 5, 3), room("c", 1, 1)] });

    expect(snapshots).toEqual([
      ["a@1", "b@4"],
      ["a@2", "b@5", "c@1"],
    ]);
    expect(unread).toEqual([
      ["a", 0],
      ["b", 2],
      ["a", 1],
      ["a", 1],
      ["b", 3],
      ["c", 1],
    ]);
    expect(inbox.rooms.map((r) => `${r.roomId}@${r.seq}`)).toEqual(["a@2", "b@5", "c@1"]);
    expect(states).toEqual(["connecting", "live", "offline", "connecting", "live"]);
    inbox.close();
    expect(second.closedBy).toEqual({ code: 1000, reason: "closed by client" });
  });
});
