/** POST /api/rooms: creating a group room, and which room ids are accepted. */
import { describe, expect, it } from "vitest";
import { api, errorOf, uniqueRoom, user } from "../helpers";

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
