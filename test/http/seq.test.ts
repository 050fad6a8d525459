/** Seq numbering of a room's events: every event takes the next seq, failures none, concurrency no gaps. */
import { describe, expect, it } from "vitest";
import { uniqueRoom, user } from "../helpers";

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
