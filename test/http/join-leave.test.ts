/** Joining and leaving a room over HTTP: once each, and access that follows membership. */
import { describe, expect, it } from "vitest";
import { api, errorOf, uniqueRoom, user } from "../helpers";

describe("POST /api/rooms/{roomId}/join and /leave", () => {
  it("joins once: joined is true the first time and false when already a member", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room);
    const first = await bob.join(room);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ roomId: room, joined: true });
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: false });
    expect((await alice.join(room)).body).toEqual({ roomId: room, joined: false });
  });

  it("answers 404 room_not_found when joining a room that does not exist", async () => {
    const bob = await user("bob");
    expect(errorOf(await bob.join(uniqueRoom("missing")))).toEqual({ status: 404, code: "room_not_found", hasMessage: true });
  });

  it("rejects an invalid room id in the path as invalid_request", async () => {
    const bob = await user("bob");
    expect(errorOf(await bob.join("a%20b")).code).toBe("invalid_request");
  });

  it("leaves once: left is true the first time and false when no longer a member", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    const first = await bob.leave(room);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ roomId: room, left: true });
    expect((await bob.leave(room)).body).toEqual({ roomId: room, left: false });
  });

  it("answers 404 room_not_found when leaving a room that does not exist", async () => {
    const bob = await user("bob");
    expect(errorOf(await bob.leave(uniqueRoom("missing")))).toEqual({ status: 404, code: "room_not_found", hasMessage: true });
  });

  it("takes away access on leave and gives it back on a new join", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    expect((await bob.send(room, "before")).status).toBe(201);
    await bob.leave(room);
    expect(errorOf(await bob.send(room, "after leaving")).code).toBe("not_member");
    expect(errorOf(await bob.history(room)).code).toBe("not_member");
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: true });
    expect((await bob.send(room, "back again")).status).toBe(201);
  });
});
