/**
 * Deletion end to end, over `npm start` with the SDK and `ws`: a live
 * subscriber sees a message deletion and the room deletion as they happen; an
 * offline member learns of the deletion and of the restore from `sync()`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatClient, SyncEvent } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

let chat: LocalChat;
beforeAll(async () => {
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
});

function waitFor<T>(check: () => T | undefined, ms = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Polls `sync()` from `cursor` until an event matches; returns everything read and the new cursor. */
async function syncUntil(client: ChatClient, cursor: string, match: (e: SyncEvent) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  const events: SyncEvent[] = [];
  let next = cursor;
  for (;;) {
    let page;
    do {
      page = await client.sync(next);
      events.push(...page.events);
      next = page.cursor;
    } while (page.hasMore);
    if (events.some(match)) return { events, cursor: next };
    if (Date.now() > deadline) throw new Error(`sync did not show the event; got ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("deletion over npm start, with the SDK", () => {
  it("reaches a live subscriber and an offline member, and the restore reaches the offline member too", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    const carol = await chat.client("carol");
    const room = `deletion-${Date.now().toString(36)}`;
    await alice.createRoom(room);
    await bob.joinRoom(room);
    await carol.joinRoom(room);

    const deletedMessages: Array<{ messageId: string; messageSeq: number; deletedBy: string }> = [];
    const roomDeleted: Array<{ roomId: string; deletedBy?: string; restorableUntil?: string }> = [];
    const errors: string[] = [];
    const received: string[] = [];
    const sub = await bob.subscribe(room, {
      onMessage: (m) => received.push(m.id),
      onMessageDeleted: (info) => deletedMessages.push(info),
      onRoomDeleted: (info) => roomDeleted.push(info),
      onError: (e) => errors.push(e.code),
    });

    // carol is offline: she only remembers where her sync log ended (once her join is in it).
    const carolCursor = await (async () => {
      const deadline = Date.now() + 5000;
      for (;;) {
        let page = await carol.sync();
        const all = [...page.events];
        while (page.hasMore) {
          page = await carol.sync(page.cursor);
          all.push(...page.events);
        }
        if (all.some((e) => e.type === "room_joined" && e.roomId === room)) return page.cursor;
        if (Date.now() > deadline) throw new Error("carol's join never reached her sync log");
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const m = await alice.sendMessage(room, "regrettable");
    await waitFor(() => (received.includes(m.id) ? true : undefined), 5000, "bob to receive the message");
    const tombstone = await alice.deleteMessage(room, m.id);
    expect(tombstone).toMatchObject({ id: m.id, seq: m.seq, deleted: true, deletedBy: "alice", content: "" });
    const live = await waitFor(() => deletedMessages[0], 5000, "bob's onMessageDeleted");
    expect(live).toMatchObject({ messageId: m.id, messageSeq: m.seq, deletedBy: "alice" });
    const page = await carol.getHistory(room);
    expect(page.messages.find((x) => x.id === m.id)).toMatchObject({ content: "", deleted: true });

    const deletion = await alice.deleteRoom(room);
    expect(deletion).toMatchObject({ roomId: room, deleted: true });
    const gone = await waitFor(() => roomDeleted[0], 5000, "bob's onRoomDeleted");
    expect(gone).toMatchObject({ roomId: room, deletedBy: "alice", restorableUntil: deletion.restorableUntil });
    // The subscription ends for good with room_deleted (announced once).
    await waitFor(() => (errors.includes("room_deleted") ? true : undefined), 5000, "bob's subscription to end");
    expect(roomDeleted).toHaveLength(1);
    await expect(bob.sendMessage(room, "anyone?")).rejects.toMatchObject({ code: "room_deleted" });

    const afterDelete = await syncUntil(carol, carolCursor, (e) => e.type === "room_deleted" && e.roomId === room);
    expect(afterDelete.events.filter((e) => e.roomId === room).map((e) => e.type)).toContain("room_deleted");
    expect((await carol.listRooms()).map((r) => r.roomId)).not.toContain(room);

    expect(await alice.restoreRoom(room)).toEqual({ roomId: room, restored: true });
    const afterRestore = await syncUntil(carol, afterDelete.cursor, (e) => e.type === "room_restored" && e.roomId === room);
    expect(afterRestore.events.filter((e) => e.roomId === room).map((e) => e.type)).toEqual(["room_restored"]);
    const history = await carol.getHistory(room);
    expect(history.messages.map((x) => [x.id, x.deleted ?? false])).toEqual([[m.id, true]]);

    // bob's own sync, read from the start, tells him the same story.
    const bobSync = await syncUntil(bob, "", (e) => e.type === "room_restored" && e.roomId === room);
    expect(bobSync.events.some((e) => e.type === "room_deleted" && e.roomId === room)).toBe(true);

    sub.close();
    for (const c of [alice, bob, carol]) c.close();
  });

  it("ends a subscription on room deletion: onConnectionState goes offline and sub.state says so", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    const room = `deletion-state-${Date.now().toString(36)}`;
    await alice.createRoom(room);
    await bob.joinRoom(room);
    const states: string[] = [];
    const errors: string[] = [];
    const sub = await bob.subscribe(room, { onConnectionState: (s) => states.push(s), onError: (e) => errors.push(e.code) });
    expect(sub.state).toBe("live");
    await alice.deleteRoom(room);
    await waitFor(() => (errors.includes("room_deleted") ? true : undefined), 5000, "onError(room_deleted)");
    expect(states[states.length - 1]).toBe("offline");
    expect(sub.state).toBe("offline");
    sub.close();
    alice.close();
    bob.close();
  });

  it("answers an expired sync cursor with resync_required carrying the room list and a fresh cursor", async () => {
    const dave = await chat.client("dave");
    await dave.createRoom(`dave-${Date.now().toString(36)}`);
    const old = Buffer.from(JSON.stringify({ i: 0, t: Date.now() - 200 * 86_400_000 })).toString("base64url");
    const error = await dave.sync(old).then(
      () => null,
      (e: unknown) => e as { code: string; details?: { rooms?: unknown[]; cursor?: string } },
    );
    expect(error).toMatchObject({ code: "resync_required" });
    expect(Array.isArray(error?.details?.rooms)).toBe(true);
    expect(typeof error?.details?.cursor).toBe("string");
    dave.close();
  });
});
