/**
 * The inbox: one socket per device learns about every room of the user
 * (activity with unread counts and last message, reads, joins, leaves,
 * deletions, restores) while viewing only one room.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Inbox } from "../../src/user/inbox";
import type { Room } from "../../src/room/room";
import { connect, drainOutbox, eventually, uniqueRoom, uniqueUser, user } from "../helpers";
import { connectInbox } from "./helpers";

describe("inbox notices", () => {
  it("reach a client subscribed to another room: activity with unread count and preview", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const viewing = uniqueRoom("viewing");
    const other = uniqueRoom("other");
    await alice.createRoom(viewing);
    await alice.createRoom(other);
    await bob.join(viewing);
    await bob.join(other);
    const roomSocket = await connect(bob.token, viewing);
    const inbox = await connectInbox(bob.token);
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "joined" && f.room.roomId === other, 5000, "joined other");

    const sent = (await alice.send(other, "are you there?")).body;
    const notice = await inbox.waitFor(
      (f) => f.type === "inbox" && f.kind === "activity" && f.room.roomId === other && f.room.lastMessage?.id === sent.id,
      5000,
      "activity in the other room",
    );
    expect(notice).toMatchObject({
      type: "inbox",
      kind: "activity",
      room: { roomId: other, state: "member", unreadCount: 1, lastMessage: { id: sent.id, seq: sent.seq, sender: alice.userId, preview: "are you there?", ts: sent.ts }, lastActivityTs: sent.ts },
    });
    await alice.send(other, "hello?");
    await inbox.waitFor((f) => f.type === "inbox" && f.room.roomId === other && f.room.unreadCount === 2, 5000, "unread 2");
    roomSocket.close();
    inbox.close();
  });

  it("tell the reader's devices the new unread count after a read", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom("read");
    await alice.createRoom(room);
    await bob.join(room);
    const inbox = await connectInbox(bob.token);
    await alice.send(room, "one");
    const last = (await alice.send(room, "two")).body;
    await inbox.waitFor((f) => f.type === "inbox" && f.room.roomId === room && f.room.unreadCount === 2, 5000, "unread 2");
    await bob.call("POST", `/api/rooms/${room}/read`, { seq: last.seq });
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "read" && f.room.roomId === room && f.room.unreadCount === 0, 5000, "read notice");
    inbox.close();
  });

  it("announce joins, leaves, deletions and restores, and send the known state first", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom("life");
    await alice.createRoom(room);
    const inbox = await connectInbox(bob.token);
    await bob.join(room);
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "joined" && f.room.roomId === room, 5000, "joined");
    await alice.call("DELETE", `/api/rooms/${room}`);
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "deleted" && f.room.roomId === room && f.room.state === "deleted", 5000, "deleted");
    await alice.call("POST", `/api/rooms/${room}/restore`);
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "restored" && f.room.roomId === room && f.room.state === "member", 5000, "restored");
    await bob.leave(room);
    await inbox.waitFor((f) => f.type === "inbox" && f.kind === "left" && f.room.roomId === room && f.room.state === "left", 5000, "left");
    // A late activity notice cannot bring the room back: the inbox keeps "left".
    // The room's outbox is flushed (not waited out) and the flush is proven by
    // alice's inbox, which the same delivery reaches; the ping then brings in
    // every frame bob's inbox sent before it.
    const late = (await alice.send(room, "after bob left")).body;
    const stub = env.ROOMS.getByName(room);
    await drainOutbox(stub);
    const aliceKnows = await runInDurableObject(env.INBOXES.getByName(alice.userId), (i: Inbox) => i.rooms());
    expect(aliceKnows.find((r) => r.roomId === room)?.lastMessage?.id).toBe(late.id);
    await inbox.sync();
    expect(inbox.notices(room).at(-1)?.room.state).toBe("left");
    const bobKnows = await runInDurableObject(env.INBOXES.getByName(bob.userId), (i: Inbox) => i.rooms());
    expect(bobKnows.find((r) => r.roomId === room)?.state).toBe("left");
    inbox.close();

    const again = await connectInbox(bob.token);
    const state = again.frames[0];
    expect(state?.type === "inbox_state" && state.rooms.find((r) => r.roomId === room)?.state).toBe("left");
    again.close();
  });

  it("are not fanned out for activity in a room above the large-room threshold; joins still are", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom("large");
    await alice.createRoom(room);
    await bob.join(room);
    const stub = env.ROOMS.getByName(room);
    // 100 more members (straight into the room: 100 HTTP joins are slow in the pool).
    await runInDurableObject(stub, (r: Room) => {
      for (let i = 0; i < 100; i++) r.join(`filler-${i}-${room}`);
    });
    // 200 outbox rows take more than one flush: run them all rather than wait for the alarm's timers.
    await drainOutbox(stub);
    const inboxOf = (u: string) => runInDurableObject(env.INBOXES.getByName(u), (i: Inbox) => i.rooms());
    const joined = await eventually(async () => (await inboxOf(bob.userId)).find((r) => r.roomId === room), 5000, "bob's join notice");
    expect(joined.state).toBe("member");
    const filler = await eventually(async () => (await inboxOf(`filler-99-${room}`)).find((r) => r.roomId === room), 5000, "a filler's join");
    expect(filler.state).toBe("member");

    const inbox = await connectInbox(bob.token);
    const sent = (await alice.send(room, "to everyone")).body;
    // The flush that would have fanned the activity out has run (nothing is
    // left in the outbox), and the ping brings in whatever the inbox sent.
    await drainOutbox(stub);
    await inbox.sync();
    expect(inbox.notices(room)).toEqual([]);
    expect((await inboxOf(bob.userId)).find((r) => r.roomId === room)!.seq).toBeLessThan(sent.seq);
    // Members learn of it on read instead.
    const list = (await bob.call<{ rooms: Array<{ roomId: string; unreadCount?: number }> }>("GET", "/api/rooms")).body.rooms;
    expect(list.find((r) => r.roomId === room)?.unreadCount).toBe(1);
    inbox.close();
  });

  it("are retried until the inbox takes them, and applied once", async () => {
    const alice = await user(uniqueUser("alice"));
    const bob = await user(uniqueUser("bob"));
    const room = uniqueRoom("retry");
    await alice.createRoom(room);
    await bob.join(room);
    const stub = env.ROOMS.getByName(room);
    await runDurableObjectAlarm(stub);
    let attempts = 0;
    await runInDurableObject(stub, (r: Room) => {
      r.inboxOf = () => ({
        notify: async () => {
          attempts++;
          throw new Error("inbox unavailable (test)");
        },
      });
    });
    const sent = (await alice.send(room, "eventually")).body;
    await runDurableObjectAlarm(stub);
    expect(attempts).toBeGreaterThan(0);
    const pendingInbox = () =>
      runInDurableObject(stub, (_r: Room, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE key LIKE 'inbox:%'").one().n);
    expect(await pendingInbox()).toBeGreaterThan(0);
    await runInDurableObject(stub, (r: Room) => {
      r.inboxOf = (u) => env.INBOXES.getByName(u);
    });
    await runDurableObjectAlarm(stub);
    expect(await pendingInbox()).toBe(0);
    const known = await runInDurableObject(env.INBOXES.getByName(bob.userId), (i: Inbox) => i.rooms());
    expect(known.find((r) => r.roomId === room)).toMatchObject({ state: "member", unreadCount: 1, lastMessage: { id: sent.id } });
    // A repeated delivery changes nothing.
    const again = await runInDurableObject(env.INBOXES.getByName(bob.userId), (i: Inbox) =>
      i.notify([{ kind: "activity", room: known.find((r) => r.roomId === room)! }]),
    );
    expect(again.applied).toBe(0);
  });
});
