/** The member cap: joins past it are refused; a slot freed by leaving can be taken. */
import { describe, expect, it } from "vitest";
import { errorOf, user } from "../helpers";
import { type User, limitMembers, roomOf as roomWith } from "./helpers/rooms";

const roomOf = (...names: string[]) => roomWith("cap", ...names);

describe("member cap", () => {
  it("refuses joins past the cap with 403 forbidden; a slot freed by leaving can be taken", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice] = users as [User, User];
    await limitMembers(room, 3);
    const carol = await user("carol");
    const dave = await user("dave");
    expect((await carol.join(room)).status).toBe(200);
    const full = await dave.join(room);
    expect(errorOf(full)).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect(full.body.error.message).toMatch(/full/);
    // Members already in are not counted twice.
    expect((await carol.join(room)).body).toEqual({ roomId: room, joined: false });
    expect((await carol.leave(room)).status).toBe(200);
    expect((await dave.join(room)).status).toBe(200);
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual(["alice", "bob", "dave"]);
  });
});
