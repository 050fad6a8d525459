/** Leaving closes every socket of the leaver (4003) and tells the others, whose sockets carry on. */
import { describe, expect, it } from "vitest";
import { connect } from "../helpers";
import { roomOf as roomWith } from "./helpers/rooms";
import { isEvent, isMessageEvent } from "./helpers/sockets";

describe("leaving closes the leaver's sockets", () => {
  it("closes every device of a user who leaves with 4003, one that never said hello included; the others see member_left and stay connected", async () => {
    const { room, users } = await roomWith("ws", "alice", "bob");
    const [alice, bob] = users as [(typeof users)[number], (typeof users)[number]];
    const bobPhone = await connect(bob.token, room);
    const bobLaptop = await connect(bob.token, room);
    const bobTablet = await connect(bob.token, room, { hello: false });
    const aliceSocket = await connect(alice.token, room);
    const left = await bob.leave(room);
    expect(left.status).toBe(200);
    expect(left.body.left).toBe(true);
    expect((await bobPhone.waitClosed()).code).toBe(4003);
    expect((await bobLaptop.waitClosed()).code).toBe(4003);
    expect((await bobTablet.waitClosed()).code).toBe(4003);
    const gone = await aliceSocket.waitFor((f) => isEvent(f) && f.event.type === "member_left" && f.event.userId === "bob");
    expect(gone).toMatchObject({ event: { userId: "bob" } });
    // Alice's socket is unaffected.
    await alice.send(room, "bob is gone");
    await aliceSocket.waitFor(isMessageEvent("bob is gone"));
    expect(aliceSocket.closed).toBeNull();
    aliceSocket.close();
  });
});
