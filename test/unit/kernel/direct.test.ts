/** directRoomId: one id per pair of users, the same from either side, a hash of both ids. */
import { describe, expect, it } from "vitest";
import { directRoomId } from "../../../src/kernel/direct";
import { DIRECT_ROOM_PREFIX, RoomId } from "../../../src/protocol";

describe("directRoomId", () => {
  it("is the same from either side", async () => {
    expect(await directRoomId("alice", "bob")).toBe(await directRoomId("bob", "alice"));
  });

  it("differs between pairs, including pairs that would collide if the ids were only joined", async () => {
    const ids = await Promise.all([directRoomId("alice", "bob"), directRoomId("alice", "carol"), directRoomId("a", "lice\nbob"), directRoomId("al", "ice")]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is a valid room id with the direct prefix and 40 hex digits", async () => {
    const id = await directRoomId("alice@example.com", "bob.smith");
    expect(id.startsWith(DIRECT_ROOM_PREFIX)).toBe(true);
    expect(id.slice(DIRECT_ROOM_PREFIX.length)).toMatch(/^[0-9a-f]{40}$/);
    expect(RoomId.safeParse(id).success).toBe(true);
  });
});
