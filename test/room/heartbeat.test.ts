/**
 * The heartbeat: the raw text "ping" is answered with "pong" by the runtime
 * (even while the room is evicted), and a JSON ping frame with a pong frame
 * echoing its reqId.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect } from "../helpers";
import { RawSocket, roomStub, roomWithMessages } from "./delivery-helpers";

describe("heartbeat", () => {
  it('the raw text "ping" is answered with the raw text "pong", before and after hello', async () => {
    const { alice, roomId } = await roomWithMessages(1, "beat");
    const socket = await RawSocket.open(alice, roomId);
    socket.send("ping");
    await socket.waitForText((t) => t === "pong");
    socket.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await socket.waitForText((t) => t.includes('"type":"live"'));
    socket.send("ping");
    socket.send("ping");
    await socket.waitForText((t) => t === "pong", 3);
    expect(socket.texts.filter((t) => t === "pong")).toHaveLength(3);
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("the heartbeat is answered while the room is evicted, and the socket still gets events afterwards", async () => {
    const { alice, roomId, head } = await roomWithMessages(1, "beat");
    const socket = await RawSocket.open(alice, roomId);
    socket.send(JSON.stringify({ type: "hello", protocol: 1 }));
    await socket.waitForText((t) => t.includes('"type":"live"'));
    await evictDurableObject(roomStub(roomId));
    socket.send("ping");
    await socket.waitForText((t) => t === "pong");
    await alice.send(roomId, "after the heartbeat");
    await socket.waitForText((t) => t.includes('"type":"event"'));
    const events = socket.frames.filter((f) => f.type === "event");
    expect(events.map((f) => f.seq)).toEqual([head + 1]);
    socket.close();
  });

  it('a JSON {type:"ping"} frame is answered with a pong frame echoing its reqId', async () => {
    const { alice, roomId } = await roomWithMessages(0, "beat");
    const socket = await connect(alice.token, roomId);
    socket.send({ type: "ping", reqId: "hb-1" });
    socket.send({ type: "ping" });
    expect(await socket.waitFor((f) => f.type === "pong" && f.reqId === "hb-1")).toEqual({ type: "pong", reqId: "hb-1" });
    await socket.waitFor((f) => f.type === "pong" && f.reqId === undefined);
    socket.close();
  });
});
