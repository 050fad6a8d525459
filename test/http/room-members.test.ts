/** A room's active users and members over HTTP: join order, roles, join times, access. */
import { describe, expect, it } from "vitest";
import { ISO_MS, api, errorOf, uniqueRoom, user } from "../helpers";

describe("GET /api/rooms/{roomId}/active-users and /members", () => {
  it("lists members in join order, creator first, without those who left", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const carol = await user("carol");
    const room = uniqueRoom();
    await alice.createRoom(room);
    await carol.join(room);
    await bob.join(room);
    const res = await bob.call("GET", `/api/rooms/${room}/active-users`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: room, users: ["alice", "carol", "bob"] });

    await carol.leave(room);
    expect((await alice.call("GET", `/api/rooms/${room}/active-users`)).body.users).toEqual(["alice", "bob"]);
    // Rejoining puts the user at the end: join order is the order of the latest join.
    await carol.join(room);
    expect((await alice.call("GET", `/api/rooms/${room}/active-users`)).body.users).toEqual(["alice", "bob", "carol"]);
  });

  it("answers 403 not_member to a non-member and 404 room_not_found for an unknown room", async () => {
    const alice = await user("alice");
    const mallory = await user("mallory");
    const room = uniqueRoom();
    await alice.createRoom(room);
    for (const path of ["active-users", "members"]) {
      expect(errorOf(await mallory.call("GET", `/api/rooms/${room}/${path}`))).toEqual({ status: 403, code: "not_member", hasMessage: true });
      expect(errorOf(await alice.call("GET", `/api/rooms/${uniqueRoom("missing")}/${path}`)).code).toBe("room_not_found");
    }
  });

  it("lists members with roles and ISO join times, in join order", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.join(room);
    const res = await bob.call("GET", `/api/rooms/${room}/members`);
    expect(res.status).toBe(200);
    expect(res.body.roomId).toBe(room);
    expect(res.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      ["alice", "owner"],
      ["bob", "member"],
    ]);
    for (const m of res.body.members) expect(m.joinedTs).toMatch(ISO_MS);
    expect(Date.parse(res.body.members[0].joinedTs)).toBeLessThanOrEqual(Date.parse(res.body.members[1].joinedTs));
  });
});
