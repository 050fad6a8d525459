/**
 * An HTTP answer the SDK acts on is checked against the protocol's schema: a
 * wrong shape rejects with ChatError `invalid_response` (retryable: a proxy's
 * page or a half-deployed server may answer right the next time) instead of
 * reaching the app as a value of the wrong type.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatError } from "../../src/client";
import { TS, client, errorAnswer, fakeServer, fakeSockets, json, liveFrame, message, socketNo, until } from "./fakes";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function failure(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(
    () => new Error("resolved"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  return error as ChatError;
}

describe("invalid_response", () => {
  it("a field of the wrong type", async () => {
    const server = fakeServer();
    server.on("GET", "/api/rooms/room/messages", () => json({ messages: "none", nextCursor: null, headSeq: 0, epoch: "E" }));
    const error = await failure(client(server).getHistory("room"));
    expect(error.code).toBe("invalid_response");
    expect(error.status).toBe(200);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain("messages");
  });

  it("a value the method does not promise (createRoom answering a direct room)", async () => {
    const server = fakeServer();
    server.on("POST", "/api/rooms", () => json({ roomId: "room", kind: "direct", role: "owner" }, 201));
    expect((await failure(client(server).createRoom("room"))).code).toBe("invalid_response");
  });

  it("a success that is not JSON (a captive portal's page)", async () => {
    const server = fakeServer();
    server.on("GET", "/api/rooms", () => new Response("<html>sign in to the wifi</html>", { status: 200 }));
    expect((await failure(client(server).listRooms())).code).toBe("invalid_response");
  });

  it("answers of the right shape pass, and error answers keep their own codes", async () => {
    const server = fakeServer();
    server.on("GET", "/api/rooms", () => json({ rooms: [{ roomId: "room", kind: "group", role: "owner", joinedTs: TS, lastActivityTs: TS, lastSeq: 3 }] }));
    server.on("POST", "/api/rooms/room/join", () => errorAnswer("room_not_found", 404));
    const chat = client(server);
    expect(await chat.listRooms()).toEqual([{ roomId: "room", kind: "group", role: "owner", joinedTs: TS, lastActivityTs: TS, lastSeq: 3 }]);
    expect((await failure(chat.joinRoom("room"))).code).toBe("room_not_found");
  });

  it("the outbox retries a send whose answer had the wrong shape", async () => {
    const server = fakeServer();
    let answers = 0;
    server.on("POST", "/api/rooms/room/messages", () => (answers++ === 0 ? json({ id: "m1" }, 201) : json(message(1), 201)));
    const sending = client(server).sendMessage("room", "hi");
    await vi.advanceTimersByTimeAsync(250);
    expect(await sending).toMatchObject({ seq: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it("a subscription whose ticket answer is malformed keeps trying", async () => {
    const server = fakeServer();
    let tickets = 0;
    server.on("POST", "/api/rooms/room/connect-ticket", () =>
      tickets++ === 0 ? json({ ticket: "t" }) : json({ ticket: "t2", url: "/api/rooms/room/ws?ticket=t2", expiresTs: TS }),
    );
    const { WebSocket, sockets } = fakeSockets();
    const subscribing = client(server, WebSocket).subscribe("room");
    await until(() => tickets === 1, "the first ticket asked for");
    await vi.advanceTimersByTimeAsync(250);
    const socket = await socketNo(sockets, 0);
    expect(socket.url).toBe("wss://chat.test/api/rooms/room/ws?ticket=t2");
    socket.accept();
    socket.frame(liveFrame("E", 0));
    (await subscribing).close();
  });
});
