/** Rooms and membership over HTTP: create, join, leave, active users, members, seq numbering. */
import { describe, expect, it } from "vitest";
import { ISO_MS, api, errorOf, uniqueRoom, user } from "../helpers";

describe("POST /api/rooms", () => {
  it("creates a group room and makes the caller its owner", async () => {
    const alice = await user("alice");
    const room = uniqueRoom();
    const res = await alice.createRoom(room);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ roomId: room, kind: "group", role: "owner" });
  });

  it("answers 409 room_exists when the room already exists, whoever asks", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    expect((await alice.createRoom(room)).status).toBe(201);
    expect(errorOf(await alice.createRoom(room))).toEqual({ status: 409, code: "room_exists", hasMessage: true });
    expect(errorOf(await bob.createRoom(room))).toEqual({ status: 409, code: "room_exists", hasMessage: true });
  });

  it("accepts ids of 1 to 64 letters, digits, '.', '_' and '-'", async () => {
    const alice = await user("alice");
    const base = uniqueRoom("Ok.id_");
    const long = (base + "x".repeat(64)).slice(0, 64);
    expect(long).toHaveLength(64);
    for (const id of [base, long, `${base}-9.Z_z`]) {
      const res = await alice.createRoom(id);
      expect(res.status, id).toBe(201);
      expect(res.body.roomId).toBe(id);
    }
  });

  it.each([
    ["empty", ""],
    ["65 characters", "a".repeat(65)],
    ["a space", "a b"],
    ["a non-ASCII letter", "é"],
    ["a slash", "a/b"],
  ])("rejects an id with %s as invalid_request", async (_name, id) => {
    const alice = await user("alice");
    expect(errorOf(await alice.createRoom(id))).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
  });

  it("rejects '.' and '..', which URL paths cannot carry (the room could never be joined or used)", async () => {
    const alice = await user("alice");
    for (const id of [".", ".."]) {
      const created = await alice.createRoom(id);
      // If the id were accepted, every route of the room would be unreachable: the URL parser
      // resolves /api/rooms/../join (and %2E%2E) to /api/join before the Worker sees it.
      expect(errorOf(created), `create ${JSON.stringify(id)}`).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
    }
  });

  it("rejects a body without a string roomId as invalid_request", async () => {
    const alice = await user("alice");
    expect(errorOf(await alice.call("POST", "/api/rooms", {})).code).toBe("invalid_request");
    expect(errorOf(await alice.call("POST", "/api/rooms", { roomId: 42 })).status).toBe(400);
    expect(errorOf(await alice.call("POST", "/api/rooms", "{not json")).status).toBe(400);
  });

  it("reserves ids starting with 'dm.' for direct rooms", async () => {
    const alice = await user("alice");
    for (const id of [`dm.${uniqueRoom()}`, "dm."]) {
      expect(errorOf(await alice.createRoom(id)), id).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
    }
  });
});

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

describe("seq numbering", () => {
  it("gives every room event the next seq: creation is 1, joins and leaves take seqs too", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room); // seq 1: alice joins as owner
    expect((await alice.history(room)).body.headSeq).toBe(1);
    await bob.join(room); // seq 2
    const m3 = await alice.send(room, "three");
    expect(m3.body.seq).toBe(3);
    await bob.leave(room); // seq 4
    const m5 = await alice.send(room, "five");
    expect(m5.body.seq).toBe(5);
    await bob.join(room); // seq 6
    expect((await alice.history(room)).body.headSeq).toBe(6);
    expect((await alice.send(room, "seven")).body.seq).toBe(7);
  });

  it("a failed request takes no seq", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const room = uniqueRoom();
    await alice.createRoom(room);
    await bob.send(room, "not a member"); // 403
    await alice.send(room, ""); // 400
    await alice.send(room, "x".repeat(16385)); // 413
    await alice.join(room); // already a member: nothing happens
    await bob.leave(room); // not a member: nothing happens
    expect((await alice.send(room, "next")).body.seq).toBe(2);
  });

  it("consecutive messages have strictly increasing seqs", async () => {
    const alice = await user("alice");
    const room = uniqueRoom();
    await alice.createRoom(room);
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push((await alice.send(room, `m${i}`)).body.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
  });

  it("concurrent sends never share a seq and leave no gaps", async () => {
    const alice = await user("alice");
    const room = uniqueRoom();
    await alice.createRoom(room);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.send(room, `c${i}`)));
    const seqs = results.map((r) => r.body.seq as number).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  });
});

describe("unknown routes", () => {
  it("answer 404 not_found in the error shape", async () => {
    const res = await api("GET", "/api/nope");
    expect(errorOf(res)).toEqual({ status: 404, code: "not_found", hasMessage: true });
  });
});
