/**
 * Hidden presence hides typing too (issue 15, item 12): typing says someone
 * is here right now, which is what hiding one's presence keeps from others.
 * The notice is accepted (the typer learns nothing new), and never passed on.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, drainOutbox, framesOf, uniqueRoom, uniqueUser, user } from "../helpers";
import { manualClockOn } from "./helpers/clock";

type User = Awaited<ReturnType<typeof user>>;

/** A room whose first user hides their presence before creating it (settings apply to rooms joined after). */
async function roomOf(...names: string[]): Promise<{ users: User[]; roomId: string }> {
  const users = await Promise.all(names.map((n) => user(uniqueUser(n))));
  expect((await users[0]!.call("PATCH", "/api/me/settings", { presenceVisibility: "nobody" })).status).toBe(200);
  const roomId = uniqueRoom("typing-hidden");
  expect((await users[0]!.createRoom(roomId)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(roomId)).status).toBe(200);
  return { users, roomId };
}

describe("typing of a user whose presence is hidden", () => {
  it("reaches nobody, over the socket or HTTP, while a visible member's typing still does", async () => {
    const { users, roomId } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const hidden = await connect(alice.token, roomId);
    const watcher = await connect(bob.token, roomId);
    const visible = await connect(carol.token, roomId);

    hidden.send({ type: "typing" });
    expect((await alice.call("POST", `/api/rooms/${roomId}/typing`)).status).toBe(200);
    // The visible member's notice is the barrier: the hidden one's frame came first on the room's queue.
    await hidden.sync();
    visible.send({ type: "typing" });
    await watcher.waitFor((f) => f.type === "typing" && f.userId === carol.userId);
    await watcher.sync();
    expect(framesOf(watcher, "typing").map((f) => f.userId)).toEqual([carol.userId]);
    // The typer got no error for it.
    expect(framesOf(hidden, "error")).toEqual([]);
    hidden.close();
    watcher.close();
    visible.close();
  });

  it("comes back once the user shows their presence again", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const clock = await manualClockOn(env.ROOMS.getByName(roomId));
    const watcher = await connect(bob.token, roomId);
    expect((await alice.call("POST", `/api/rooms/${roomId}/typing`)).status).toBe(200);
    await watcher.sync();
    expect(framesOf(watcher, "typing")).toEqual([]);
    // The settings reach the rooms the D1 index lists: let it catch up first.
    await drainOutbox(env.ROOMS.getByName(roomId));
    expect((await alice.call("PATCH", "/api/me/settings", { presenceVisibility: "everyone" })).status).toBe(200);
    // Past the 2 s between notices on the room's clock, not the wall's.
    clock.advance(2_001);
    expect((await alice.call("POST", `/api/rooms/${roomId}/typing`)).status).toBe(200);
    await watcher.waitFor((f) => f.type === "typing" && f.userId === alice.userId);
    watcher.close();
  });
});
