/**
 * Live delivery: hello is answered with live at the room's head; from then
 * on every stored event reaches every live socket of every member once, in
 * seq order and without gaps, each frame naming its room, epoch and seq;
 * nothing reaches a socket before its hello, nor an event stored before the
 * member joined.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { type TestSocket, connect, framesOf, user } from "../helpers";
import { expectSeqs, eventsOf, messagesOf, roomPosition, roomWithMessages, sendMany, seqsOf, waitForSeq } from "./delivery-helpers";
import { type User, roomOf as roomWith } from "./helpers/rooms";
import { isEvent, messagesOn } from "./helpers/sockets";

const roomOf = (...names: string[]) => roomWith("ws", ...names);

function liveFrame(socket: TestSocket) {
  return socket.waitFor((f): f is Extract<typeof f, { type: "live" }> => f.type === "live");
}

describe("hello and live delivery", () => {
  it("answers hello with live at the room's current epoch and seq", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const socket = await connect(users[0]!.token, room);
    const live = framesOf(socket, "live")[0]!;
    const page = await users[0]!.history(room);
    expect(live).toEqual({ type: "live", roomId: room, epoch: page.body.epoch, seq: 2 });
    socket.close();
  });

  it("delivers messages sent over HTTP to every live socket of every member, once each and in seq order", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const sockets = [
      await connect(alice.token, room),
      await connect(alice.token, room), // a second device
      await connect(bob.token, room),
      await connect(carol.token, room),
    ];
    const sent: Message[] = [];
    for (let i = 0; i < 6; i++) sent.push((await (i % 2 ? bob : carol).send(room, `live-${i}`)).body);
    for (const socket of sockets) {
      const got = await messagesOn(socket, sent.length);
      expect(got).toEqual(sent);
      const seqs = got.map((m) => m.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      for (const f of framesOf(socket, "event")) expect(f.roomId).toBe(room);
    }
    for (const socket of sockets) socket.close();
  });

  it("sends nothing to a socket that has not said hello", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const quiet = await connect(users[0]!.token, room, { hello: false });
    await users[1]!.send(room, "unheard");
    await quiet.sync();
    expect(framesOf(quiet, "event")).toEqual([]);
    quiet.close();
  });

  it("tells live sockets when members join and leave", async () => {
    const { room, users } = await roomOf("alice");
    const socket = await connect(users[0]!.token, room);
    const bob = await user("bob");
    await bob.join(room);
    const joined = await socket.waitFor((f) => isEvent(f) && f.event.type === "member_joined");
    expect(joined).toMatchObject({ event: { type: "member_joined", seq: 2, userId: "bob", role: "member" } });
    await bob.leave(room);
    const left = await socket.waitFor((f) => isEvent(f) && f.event.type === "member_left");
    expect(left).toMatchObject({ event: { type: "member_left", seq: 3, userId: "bob" } });
    socket.close();
  });

  it("does not deliver a message stored before a user joined live, but shows it in their history", async () => {
    const { room, users } = await roomOf("alice");
    await users[0]!.send(room, "before bob");
    const bob = await user("bob");
    await bob.join(room);
    const socket = await connect(bob.token, room);
    await users[0]!.send(room, "after bob");
    const got = await messagesOn(socket, 1);
    expect(got.map((m) => m.content)).toEqual(["after bob"]);
    const history = await bob.history(room);
    expect(history.body.messages.map((m: Message) => m.content)).toEqual(["before bob", "after bob"]);
    socket.close();
  });
});

describe("event order", () => {
  it("every event frame names its room, epoch and seq, and the seq matches the event's", async () => {
    const { alice, roomId, epoch, head } = await roomWithMessages(0, "order");
    const socket = await connect(alice.token, roomId);
    await alice.send(roomId, "one");
    await alice.send(roomId, "two");
    await waitForSeq(socket, head + 2);
    const events = eventsOf(socket);
    expect(events).toHaveLength(2);
    for (const frame of events) {
      expect(frame).toMatchObject({ type: "event", roomId, epoch });
      expect(frame.seq).toBe(frame.event.seq);
      if (frame.event.type === "message") expect(frame.event.message.seq).toBe(frame.seq);
    }
    socket.close();
  });

  it("a live socket sees gap-free seqs across messages, joins and leaves", async () => {
    const { alice, roomId, head } = await roomWithMessages(3, "order");
    const bob = await user("bob");
    const carol = await user("carol");
    const socket = await connect(alice.token, roomId);
    expect(await liveFrame(socket)).toMatchObject({ seq: head });

    await alice.send(roomId, "a1");
    expect((await bob.join(roomId)).status).toBe(200);
    await bob.send(roomId, "b1");
    expect((await carol.join(roomId)).status).toBe(200);
    await carol.send(roomId, "c1");
    expect((await carol.leave(roomId)).status).toBe(200);
    await alice.send(roomId, "a2");
    expect((await bob.leave(roomId)).status).toBe(200);
    await alice.send(roomId, "a3");

    const { head: end } = await roomPosition(alice, roomId);
    expect(end).toBe(head + 9);
    await waitForSeq(socket, end);
    expectSeqs(seqsOf(socket), head + 1, end);
    expect(eventsOf(socket).map((f) => f.event.type)).toEqual([
      "message",
      "member_joined",
      "message",
      "member_joined",
      "message",
      "member_left",
      "message",
      "member_left",
      "message",
    ]);
    socket.close();
  });

  it("concurrent senders still produce one gap-free sequence on every live socket", async () => {
    const { alice, roomId, head } = await roomWithMessages(0, "order");
    const bob = await user("bob");
    await bob.join(roomId);
    const a = await connect(alice.token, roomId);
    const b = await connect(bob.token, roomId);
    const start = head + 1; // bob's join
    await Promise.all([sendMany(alice, roomId, 30, "a", 5), sendMany(bob, roomId, 30, "b", 5)]);
    const end = start + 60;
    await waitForSeq(a, end);
    await waitForSeq(b, end);
    expectSeqs(seqsOf(a), start + 1, end);
    expectSeqs(seqsOf(b), start + 1, end);
    expect(messagesOf(a).map((m) => m.id)).toEqual(messagesOf(b).map((m) => m.id));
    a.close();
    b.close();
  });
});
