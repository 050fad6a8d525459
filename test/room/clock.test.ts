/**
 * The room and the user objects read time through an injected clock: a test
 * crosses a window by moving a ManualClock, never by sleeping. Each case
 * moves the clock across one window and checks the answer changes with it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/kernel/clock";
import { TokenBuckets } from "../../src/kernel/token-bucket";
import type { Room } from "../../src/room/room";
import type { Inbox } from "../../src/user/inbox";
import type { UserLimits } from "../../src/user/limits";
import { uniqueRoom, uniqueUser, user } from "../helpers";

/** Installs a manual clock on a room, starting at the real time now. */
async function manualClockOn(roomId: string): Promise<ManualClock> {
  const clock = new ManualClock();
  await runInDurableObject(env.ROOMS.getByName(roomId), (room: Room) => {
    room.clock = clock;
  });
  return clock;
}

describe("injected clock", () => {
  it("the room's undo window passes when its clock moves past it", async () => {
    const alice = await user(uniqueUser("clock-alice"));
    const roomId = uniqueRoom("clock");
    expect((await alice.createRoom(roomId)).status).toBe(201);
    const stub = env.ROOMS.getByName(roomId);
    const clock = await manualClockOn(roomId);

    const deleted = await stub.deleteRoom({ userId: alice.userId });
    expect(deleted.ok).toBe(true);
    const undoMs = Date.parse(deleted.ok ? deleted.value.restorableUntil : "") - clock.now();
    expect(undoMs).toBeGreaterThan(0);

    // Inside the window (by the room's clock) a restore works...
    clock.advance(undoMs - 1);
    expect((await stub.restoreRoom({ userId: alice.userId })).ok).toBe(true);

    // ...and once the clock is past a new deletion's window, it no longer does.
    const again = await stub.deleteRoom({ userId: alice.userId });
    expect(again.ok).toBe(true);
    clock.advance(undoMs + 1);
    const late = await stub.restoreRoom({ userId: alice.userId });
    expect(late.ok ? null : late.error.code).toBe("room_deleted");
  });

  it("the room's timestamps follow its clock", async () => {
    const alice = await user(uniqueUser("clock-ts"));
    const roomId = uniqueRoom("clock-ts");
    expect((await alice.createRoom(roomId)).status).toBe(201);
    const clock = await manualClockOn(roomId);
    clock.advance(60 * 60_000);
    const sent = await env.ROOMS.getByName(roomId).sendMessage(alice.userId, { content: "from the future" });
    expect(sent.ok && Date.parse(sent.value.ts)).toBe(clock.now());
  });

  it("a user's cross-room send bucket refills when its clock moves a minute", async () => {
    const stub = env.USER_LIMITS.getByName(uniqueUser("clock-limits"));
    const clock = new ManualClock();
    await runInDurableObject(stub, (limits: UserLimits) => {
      limits.clock = clock;
      limits.sendBucket = TokenBuckets.perMinute(2);
    });
    expect((await stub.takeSend()).allowed).toBe(true);
    expect((await stub.takeSend()).allowed).toBe(true);
    expect((await stub.takeSend()).allowed).toBe(false);
    clock.advance(60_000);
    expect((await stub.takeSends(2)).map((v) => v.allowed)).toEqual([true, true]);
  });

  it("an inbox connect ticket expires when the inbox's clock moves past its lifetime", async () => {
    const userId = uniqueUser("clock-inbox");
    const stub = env.INBOXES.getByName(userId);
    const clock = new ManualClock();
    await runInDurableObject(stub, (inbox: Inbox) => {
      inbox.clock = clock;
    });
    const { ticket, expiresTs } = await stub.connectTicket(userId);
    clock.set(Date.parse(expiresTs) + 1);
    const res = await runInDurableObject(stub, (inbox: Inbox) =>
      inbox.fetch(new Request(`https://inbox/ws?ticket=${ticket}`, { headers: { Upgrade: "websocket" } })),
    );
    expect(res.status).toBe(401);
  });
});
