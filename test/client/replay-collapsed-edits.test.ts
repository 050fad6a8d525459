/**
 * A replay collapses the edits of one message (issue 15, item 1): the
 * earlier edits keep their slots, marked `supersededBy`, and carry no
 * content. The SDK applies every event in order (no gap, onEvent sees them
 * all) and reports the message's state once, from the edit that carries it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Message, RoomEvent } from "../../src/client";
import { TS, client, eventFrame, fakeServer, fakeSockets, liveFrame, message, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a replay with collapsed edits", () => {
  it("calls onMessageEdited once, with the latest state, and onEvent for every seq", async () => {
    const server = fakeServer();
    server.tickets();
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const events: RoomEvent[] = [];
    const edited: Message[] = [];
    const subscribing = chat.subscribe("room", { onEvent: (e) => events.push(e), onMessageEdited: (m) => edited.push(m) }, { after: { epoch: "E", seq: 2 } });
    const socket = await socketNo(sockets, 0);
    socket.accept();
    const stub = { ...message(2, ""), editedTs: TS };
    const edit = (seq: number, extra: object) => ({ type: "event", roomId: "room", epoch: "E", seq, event: { type: "message_edited", seq, ts: TS, ...extra } });
    socket.frame(edit(3, { message: stub, supersededBy: 5 }));
    socket.frame(edit(4, { message: stub, supersededBy: 5 }));
    socket.frame(edit(5, { message: { ...message(2, "final"), editedTs: TS } }));
    socket.frame(eventFrame("E", 6));
    socket.frame(liveFrame("E", 6));
    const sub = await subscribing;
    await until(() => events.length === 4, "every replayed event");
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(edited.map((m) => m.content)).toEqual(["final"]);
    expect(sockets).toHaveLength(1); // no gap: nothing dropped the socket
    sub.close();
  });
});
