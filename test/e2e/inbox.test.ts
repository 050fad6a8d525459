/**
 * chat.subscribeInbox over npm start: one socket tells a client viewing one
 * room about the others (activity, unread counts, joins, leaves, deletions),
 * and reconnects by itself after the server restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InboxRoom } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

let chat: LocalChat;
beforeAll(async () => {
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
});

function waitFor<T>(check: () => T | undefined | false, ms = 8000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = check();
      if (value !== undefined && value !== false) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

describe("subscribeInbox", () => {
  it("delivers activity, unread counts, joins, leaves and deletions for rooms the client is not viewing", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    await alice.createRoom("lobby");
    await alice.createRoom("side");
    await bob.joinRoom("lobby");
    const viewing = await bob.subscribe("lobby", {});

    const log: string[] = [];
    const unread = new Map<string, number>();
    const states: string[] = [];
    const activity: InboxRoom[] = [];
    const inbox = await bob.subscribeInbox({
      onActivity: (r) => activity.push(r),
      onRoomJoined: (r) => log.push(`joined ${r.roomId}`),
      onRoomLeft: (r) => log.push(`left ${r.roomId}`),
      onRoomDeleted: (r) => log.push(`deleted ${r.roomId}`),
      onRoomRestored: (r) => log.push(`restored ${r.roomId}`),
      onUnread: ({ roomId, unreadCount }) => unread.set(roomId, unreadCount),
      onConnectionState: (s) => states.push(s),
    });
    expect(inbox.state).toBe("live");

    await bob.joinRoom("side");
    await waitFor(() => log.includes("joined side"), 8000, "joined side");
    const sent = await alice.sendMessage("side", "psst, over here");
    await waitFor(() => unread.get("side") === 1, 8000, "unread 1 in side");
    await waitFor(() => activity.find((r) => r.lastMessage?.id === sent.id), 8000, "activity with the message");
    expect(inbox.rooms.find((r) => r.roomId === "side")).toMatchObject({ unreadCount: 1, lastMessage: { preview: "psst, over here", sender: "alice" } });

    await bob.markRead("side", sent.seq);
    await waitFor(() => unread.get("side") === 0, 8000, "unread 0 after the read");

    await alice.deleteRoom("side");
    await waitFor(() => log.includes("deleted side"), 8000, "deleted side");
    await alice.restoreRoom("side");
    await waitFor(() => log.includes("restored side"), 8000, "restored side");
    await bob.leaveRoom("side");
    await waitFor(() => log.includes("left side"), 8000, "left side");

    // The room list agrees: unread counts and last messages come from the rooms.
    const rooms = await bob.listRooms();
    expect(rooms.map((r) => r.roomId)).toEqual(["lobby"]);
    expect(rooms[0]).toMatchObject({ unreadCount: 0, lastMessage: null });

    inbox.close();
    viewing.close();
    alice.close();
    bob.close();
  });

  it("reconnects after a server restart and catches up from the inbox state", async () => {
    const alice = await chat.client("alice");
    const carol = await chat.client("carol");
    await alice.createRoom("restart-room");
    await carol.joinRoom("restart-room");
    const states: string[] = [];
    const t0 = Date.now();
    const unread = new Map<string, number>();
    const inbox = await carol.subscribeInbox({
      onConnectionState: (s) => states.push(`${s}@${Date.now() - t0}`),
      onUnread: ({ roomId, unreadCount }) => unread.set(roomId, unreadCount),
    });
    await chat.kill(true);
    await waitFor(() => states.some((s) => s.startsWith("offline")), 15000, "offline");
    await chat.restart();
    states.push(`restarted@${Date.now() - t0}`);
    await alice.sendMessage("restart-room", "while you were away");
    await waitFor(() => unread.get("restart-room") === 1, 20000, "unread after reconnect").catch((e) => {
      throw new Error(`${e}; states ${states.join(",")}; rooms ${JSON.stringify(inbox.rooms)}; log ${chat.output().slice(-3000)}`);
    });
    expect(states.at(-1)).toMatch(/^live/);
    inbox.close();
    alice.close();
    carol.close();
  });
});
