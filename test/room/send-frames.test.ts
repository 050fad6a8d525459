/**
 * The send frame: acknowledged with the stored message and broadcast to
 * every live socket, sized by bytes of content (not of JSON), checked
 * against the current membership, and answered promptly.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import { ISO_MS, connect } from "../helpers";
import { roomOf as roomWith } from "./helpers/rooms";
import { type AckFrame, type ErrorFrame, messagesOn } from "./helpers/sockets";

const roomOf = (...names: string[]) => roomWith("ws", ...names);

describe("send frames", () => {
  it("acknowledges a send frame with the stored message and broadcasts it to every live socket, the sender's included", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const alice = await connect(users[0]!.token, room);
    const bob = await connect(users[1]!.token, room);
    alice.send({ type: "send", reqId: "r1", content: "over the socket", clientId: "ws-c1" });
    const ack = await alice.waitFor((f): f is AckFrame => f.type === "ack");
    expect(ack.reqId).toBe("r1");
    expect(ack.message).toMatchObject({ roomId: room, sender: "alice", content: "over the socket", clientId: "ws-c1" });
    expect(ack.message.ts).toMatch(ISO_MS);
    expect(await messagesOn(bob, 1)).toEqual([ack.message]);
    expect(await messagesOn(alice, 1)).toEqual([ack.message]);
    const history = await users[1]!.history(room);
    expect(history.body.messages).toEqual([ack.message]);
    alice.close();
    bob.close();
  });

  it("answers a send frame over the size limit with content_too_large for its reqId", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    socket.send({ type: "send", reqId: "big", content: "é".repeat(8193) });
    const error = await socket.waitFor((f): f is ErrorFrame => f.type === "error");
    expect(error).toMatchObject({ reqId: "big", error: { code: "content_too_large" } });
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("accepts a send frame whose content is at the byte limit even when JSON escaping makes it six times longer", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const content = "\u0001".repeat(16384); // 16384 UTF-8 bytes, written as \u0001 in JSON
    const frame = JSON.stringify({ type: "send", reqId: "escaped", content });
    expect(frame.length).toBeGreaterThan(16384 * 6);
    socket.send(frame);
    const ack = await socket.waitFor((f): f is AckFrame => f.type === "ack" && f.reqId === "escaped");
    expect(ack.message.content).toBe(content);
    socket.close();
  });

  it("rejects a send frame from a user who is no longer a member with not_member", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[1]!.token, room);
    // Take bob's membership away without the leave path (which would also close his sockets),
    // to show that every frame is checked against the current membership.
    await runInDurableObject(env.ROOMS.getByName(room), (instance: Room) => {
      instance.core.members.remove("bob");
    });
    socket.send({ type: "send", reqId: "gone", content: "am I still here?" });
    const error = await socket.waitFor((f): f is ErrorFrame => f.type === "error");
    expect(error).toMatchObject({ reqId: "gone", error: { code: "not_member" } });
    expect((await users[0]!.history(room)).body.messages as Message[]).toEqual([]);
    socket.close();
  });

  it("does not hold a socket's frames back: an ack arrives promptly", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const started = Date.now();
    socket.send({ type: "send", reqId: "t", content: "quick" });
    await socket.waitFor((f) => f.type === "ack", 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    socket.close();
  });
});
