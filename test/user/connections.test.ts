/**
 * The cap on a user's live sockets (MAX_CONNECTIONS_PER_USER) across rooms
 * and the inbox, kept as leases in the user's UserLimits object, which heal
 * themselves when a socket vanished without a release.
 *
 * The test Worker runs with a huge cap; each test lowers it on its own
 * user's object only.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LEASE_GRACE_MS, type UserLimits } from "../../src/user/limits";
import { connectInbox, inboxTicket } from "../inbox/helpers";
import { manualClockOn } from "../room/helpers/clock";
import { api, connect, eventually, uniqueRoom, uniqueUser, upgrade, user } from "../helpers";

type User = Awaited<ReturnType<typeof user>>;

const limitsOf = (userId: string) => env.USER_LIMITS.getByName(userId);

async function setMaxConnections(userId: string, n: number): Promise<void> {
  await runInDurableObject(limitsOf(userId), (instance: UserLimits) => {
    (instance.config as { maxConnections: number }).maxConnections = n;
  });
}

/** A fresh user who owns `n` fresh rooms. */
async function ownerOfRooms(n: number): Promise<{ owner: User; rooms: string[] }> {
  const owner = await user(uniqueUser("limits"));
  const rooms = Array.from({ length: n }, () => uniqueRoom("xroom"));
  for (const room of rooms) expect((await owner.createRoom(room)).status).toBe(201);
  return { owner, rooms };
}

describe("live connections per user, across rooms and the inbox", () => {
  it("refuses the connection over the cap with 429 too_many_connections before the upgrade, room or inbox; a close frees a place", async () => {
    const { owner, rooms } = await ownerOfRooms(3);
    await setMaxConnections(owner.userId, 3);
    const sockets = [await connect(owner.token, rooms[0]!), await connect(owner.token, rooms[1]!)];
    const inbox = await connectInbox(owner.token);
    expect(await limitsOf(owner.userId).openConnections()).toBe(3);

    const ticket = await api<{ url: string }>("POST", `/api/rooms/${rooms[2]}/connect-ticket`, { token: owner.token });
    const refused = await upgrade(ticket.body.url);
    expect(refused.webSocket).toBeNull();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("too_many_connections");
    const refusedInbox = await upgrade(await inboxTicket(owner.token));
    expect(refusedInbox.status).toBe(429);
    expect(((await refusedInbox.json()) as { error: { code: string } }).error.code).toBe("too_many_connections");
    // Another user is not affected.
    const other = await user(uniqueUser("other"));
    expect((await other.join(rooms[2]!)).status).toBe(200);
    (await connect(other.token, rooms[2]!)).close();

    sockets[0]!.close();
    await eventually(async () => ((await limitsOf(owner.userId).openConnections()) === 2 ? true : undefined), 5000, "the lease to be released");
    const third = await connect(owner.token, rooms[2]!);
    inbox.close();
    await eventually(async () => ((await limitsOf(owner.userId).openConnections()) === 2 ? true : undefined), 5000, "the inbox lease to be released");
    sockets[1]!.close();
    third.close();
    await eventually(async () => ((await limitsOf(owner.userId).openConnections()) === 0 ? true : undefined), 5000, "every lease to be released");
  });

  it("heals a lease whose socket vanished without a release, and keeps those of live sockets", async () => {
    const { owner, rooms } = await ownerOfRooms(2);
    await setMaxConnections(owner.userId, 2);
    const clock = await manualClockOn(limitsOf(owner.userId));
    const live = await connect(owner.token, rooms[0]!);
    await runInDurableObject(limitsOf(owner.userId), (instance: UserLimits, state) => {
      // A lease for a socket room 2 never had (a lost release).
      state.storage.sql.exec("INSERT INTO connections (id, kind, target, user_id, since) VALUES ('lost', 'room', ?, ?, ?)", rooms[1], owner.userId, clock.now());
      expect(instance.openConnections()).toBe(2);
    });
    // Both leases, the lost one and the live one, become old enough to be checked.
    clock.advance(LEASE_GRACE_MS + 1000);
    // At the cap, the lost lease is found out and dropped; the live one stays.
    const second = await connect(owner.token, rooms[1]!);
    expect(await limitsOf(owner.userId).openConnections()).toBe(2);
    const ticket = await api<{ url: string }>("POST", `/api/rooms/${rooms[1]}/connect-ticket`, { token: owner.token });
    expect((await upgrade(ticket.body.url)).status).toBe(429);
    live.close();
    second.close();
    await eventually(async () => ((await limitsOf(owner.userId).openConnections()) === 0 ? true : undefined), 5000, "the leases to be released");
  });
});
