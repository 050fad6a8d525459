/**
 * A subscription resumed too far behind for a replay is told to resync: it
 * pages the missed range forward from history (over HTTP) before it applies
 * the live events that arrive meanwhile, so the handlers see every event
 * once, in seq order, with no duplicate where history and live overlap.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RoomEvent } from "../../src/client";
import { client, eventFrame, fakeServer, fakeSockets, gate, json, liveFrame, messageEvent, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const page = (seqs: number[], nextCursor: string | null, extra: RoomEvent[] = []) => ({
  messages: seqs.map((seq) => messageEvent(seq).message),
  events: [...seqs.map((seq) => messageEvent(seq)), ...extra].sort((a, b) => a.seq - b.seq),
  nextCursor,
  headSeq: 9,
  epoch: "E",
});

describe("resync with gap fill", () => {
  it("pages history from the resync cursor, then applies live events after it once and in order", async () => {
    const server = fakeServer();
    server.tickets();
    const firstPage = gate<void>();
    server.on("GET", "/api/rooms/room/messages", async ({ url }) => {
      const cursor = url.searchParams.get("cursor");
      if (cursor === "c1") {
        await firstPage.promise; // live frames arrive while this page is on its way
        const original = messageEvent(3);
        const edit: RoomEvent = { type: "message_edited", seq: 5, ts: original.ts, message: { ...original.message, content: "edited", editedTs: original.ts } };
        return json(page([3, 4], "c2", [edit]));
      }
      if (cursor === "c2") return json(page([6, 7, 8], null));
      return json({ error: { code: "invalid_request", message: `unexpected cursor ${cursor}` } }, 400);
    });
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const events: RoomEvent[] = [];
    const subscribing = chat.subscribe("room", { onEvent: (e) => events.push(e) }, { after: { epoch: "E", seq: 2 } });

    const socket = await socketNo(sockets, 0);
    socket.accept();
    expect(socket.frames[0]).toEqual({ type: "hello", protocol: 1, after: { epoch: "E", seq: 2 } });
    socket.frame({ type: "resync", roomId: "room", reason: "too_far_behind", epoch: "E", seq: 7, historyCursor: "c1" });
    socket.frame(liveFrame("E", 7));
    // Live events after the resync point; 7 is also in history, 8 also in the second page.
    for (const seq of [7, 8, 9]) socket.frame(eventFrame("E", seq));
    await until(() => server.requests.some((r) => r.url.searchParams.get("cursor") === "c1"), "the first page asked for");
    expect(events).toEqual([]); // nothing live is applied before the gap is filled

    firstPage.open();
    const sub = await subscribing;
    await until(() => events.length === 7, "every event from 3 to 9");
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [3, "message"],
      [4, "message"],
      [5, "message_edited"],
      [6, "message"],
      [7, "message"],
      [8, "message"],
      [9, "message"],
    ]);
    const pages = server.requests.filter((r) => r.path === "/api/rooms/room/messages").map((r) => r.url.searchParams);
    expect(pages.map((q) => [q.get("cursor"), q.get("limit")])).toEqual([
      ["c1", "200"],
      ["c2", "200"],
    ]);
    expect(sub.position).toEqual({ epoch: "E", seq: 9 });
    sub.close();
  });

  it("another epoch resets the position instead of paging", async () => {
    const server = fakeServer();
    server.tickets();
    const { WebSocket, sockets } = fakeSockets();
    const chat = client(server, WebSocket);
    const resets: Array<{ epoch: string; seq: number }> = [];
    const seqs: number[] = [];
    const subscribing = chat.subscribe("room", { onReset: (r) => resets.push(r), onEvent: (e) => seqs.push(e.seq) }, { after: { epoch: "OLD", seq: 40 } });
    const socket = await socketNo(sockets, 0);
    socket.accept();
    socket.frame({ type: "resync", roomId: "room", reason: "epoch_changed", epoch: "NEW", seq: 3, historyCursor: "latest" });
    socket.frame(liveFrame("NEW", 3));
    socket.frame(eventFrame("NEW", 4));
    const sub = await subscribing;
    await until(() => seqs.length === 1, "the live event after the reset");
    expect(resets).toEqual([{ epoch: "NEW", seq: 3 }]);
    expect(seqs).toEqual([4]);
    expect(server.requests.some((r) => r.path.endsWith("/messages"))).toBe(false);
    sub.close();
  });
});
