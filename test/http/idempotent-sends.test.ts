/** Idempotent sends over HTTP: a repeated clientId returns the original message and stores nothing new. */
import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";

async function roomWith(...names: string[]) {
  const [owner, ...others] = await Promise.all(names.map((n) => user(n)));
  const room = uniqueRoom();
  expect((await owner!.createRoom(room)).status).toBe(201);
  for (const u of others) expect((await u.join(room)).status).toBe(200);
  return { room, owner: owner!, others };
}

describe("idempotent sends (clientId)", () => {
  it("returns the original message for a repeated clientId and stores it once", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const first = await alice.send(room, "only once", "retry-1");
    const again = await alice.send(room, "only once", "retry-1");
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const page = await alice.history(room);
    expect(page.body.messages.filter((m: { clientId?: string }) => m.clientId === "retry-1")).toHaveLength(1);
    expect(page.body.headSeq).toBe(first.body.seq);
  });

  it("a retry takes no seq: the next message follows the original directly", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const first = await alice.send(room, "a", "k1");
    await alice.send(room, "a", "k1");
    expect((await alice.send(room, "b")).body.seq).toBe(first.body.seq + 1);
  });

  it("keeps client ids per sender: the same clientId from two users is two messages", async () => {
    const { room, owner: alice, others } = await roomWith("alice", "bob");
    const bob = others[0]!;
    const a = await alice.send(room, "from alice", "same-id");
    const b = await bob.send(room, "from bob", "same-id");
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.sender).toBe("bob");
    expect((await alice.history(room)).body.messages).toHaveLength(2);
  });

  it("concurrent sends with one clientId store one message", async () => {
    const { room, owner: alice } = await roomWith("alice");
    const results = await Promise.all(Array.from({ length: 8 }, () => alice.send(room, "burst", "burst-1")));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.seq)).size).toBe(1);
    expect((await alice.history(room)).body.messages).toHaveLength(1);
  });
});
