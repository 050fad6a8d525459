/** Typing notices (DESIGN.md promise 8): ephemeral, to the others only, rate limited per user, members only. */
import { describe, expect, it } from "vitest";
import { connect, framesOf, uniqueRoom, uniqueUser, user } from "../helpers";

async function roomOf(...names: string[]) {
  const users = await Promise.all(names.map((n) => user(uniqueUser(n))));
  const roomId = uniqueRoom("presence");
  expect((await users[0]!.createRoom(roomId)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(roomId)).status).toBe(200);
  return { users, roomId };
}

describe("typing", () => {
  it("reaches other members with a 10 s expiry, not the typer, is never stored, and is rate limited per user", async () => {
    const { users, roomId } = await roomOf("alice", "bob");
    const [alice, bob] = users as [Awaited<ReturnType<typeof user>>, Awaited<ReturnType<typeof user>>];
    const typer = await connect(alice.token, roomId);
    const watcher = await connect(bob.token, roomId);
    const before = (await bob.history(roomId)).body.headSeq;
    typer.send({ type: "typing" });
    const notice = await watcher.waitFor((f) => f.type === "typing");
    expect(notice).toMatchObject({ type: "typing", roomId, userId: alice.userId });
    const ttl = notice.type === "typing" ? Date.parse(notice.expiresTs) - Date.now() : 0;
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    // A burst within 2 s is absorbed.
    for (let i = 0; i < 5; i++) typer.send({ type: "typing" });
    expect((await alice.call("POST", `/api/rooms/${roomId}/typing`)).status).toBe(200);
    await watcher.sync();
    await typer.sync();
    expect(framesOf(watcher, "typing")).toHaveLength(1);
    expect(framesOf(typer, "typing")).toHaveLength(0);
    expect((await bob.history(roomId)).body.headSeq).toBe(before);
    typer.close();
    watcher.close();
  });

  it("is refused for non-members", async () => {
    const { roomId } = await roomOf("alice");
    const mallory = await user(uniqueUser("mallory"));
    const res = await mallory.call("POST", `/api/rooms/${roomId}/typing`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_member");
  });
});
