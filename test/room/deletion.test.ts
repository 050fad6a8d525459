/**
 * Deleting and editing messages: tombstones in their slot, live and replayed
 * events, who may do what, and the content really gone from storage.
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { connect, uniqueRoom } from "../helpers";
import {
  type TestUser,
  adminUser,
  afterAlarms,
  eventsOf,
  eventsOfType,
  expectError,
  newUser,
  roomCount,
  roomSql,
  roundTrip,
  waitForEvent,
} from "./deletion-helpers";

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A group room: alice owns it, bob and carol are plain members. */
async function groupRoom() {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const carol = await newUser("carol");
  const room = uniqueRoom("msgdel");
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  expect((await carol.join(room)).status).toBe(200);
  return { alice, bob, carol, room };
}

async function sent(u: TestUser, room: string, content: string): Promise<Message> {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as Message;
}

const del = (u: { call: TestUser["call"] }, room: string, id: string) => u.call<any>("DELETE", `/api/rooms/${room}/messages/${encodeURIComponent(id)}`);
const edit = (u: { call: TestUser["call"] }, room: string, id: string, content: unknown) =>
  u.call<any>("PATCH", `/api/rooms/${room}/messages/${encodeURIComponent(id)}`, { content });

describe("deleting a message", () => {
  it("turns the sender's own message into a tombstone that keeps its id, seq, sender and ts", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "oops, wrong chat");
    const res = await del(bob, room, m.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: m.id, roomId: room, seq: m.seq, sender: bob.userId, ts: m.ts, content: "", deleted: true, deletedBy: bob.userId });
    expect(res.body.deletedTs).toMatch(ISO_MS);
    expect(Date.parse(res.body.deletedTs)).toBeGreaterThanOrEqual(Date.parse(m.ts));
    expect(res.body.editedTs).toBeUndefined();
  });

  it("sends message_deleted live to every member's socket, the deleter's included", async () => {
    const { alice, bob, carol, room } = await groupRoom();
    const m = await sent(bob, room, "to be deleted");
    const sockets = await Promise.all([alice, bob, carol].map((u) => connect(u.token, room)));
    const res = await del(bob, room, m.id);
    expect(res.status).toBe(200);
    for (const socket of sockets) {
      const frame = await waitForEvent(socket, "message_deleted");
      expect(frame.event).toMatchObject({ type: "message_deleted", messageId: m.id, messageSeq: m.seq, deletedBy: bob.userId, deletedTs: res.body.deletedTs });
      expect(frame.seq).toBeGreaterThan(m.seq);
      expect(frame.roomId).toBe(room);
    }
    for (const socket of sockets) socket.close();
  });

  it("replays the deletion to a socket resuming from an earlier position, and the replayed message reads as a tombstone", async () => {
    const { alice, bob, room } = await groupRoom();
    const first = await connect(alice.token, room);
    const live = first.frames.find((f) => f.type === "live") as Extract<(typeof first.frames)[number], { type: "live" }>;
    first.close();
    const m = await sent(bob, room, "secret that will go");
    await del(bob, room, m.id);

    const resumed = await connect(alice.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    const events = eventsOf(resumed).map((f) => f.event);
    const message = events.find((e) => e.type === "message");
    const deleted = events.find((e) => e.type === "message_deleted");
    expect(message).toMatchObject({ seq: m.seq, message: { id: m.id, content: "", deleted: true } });
    expect(deleted).toMatchObject({ messageId: m.id, messageSeq: m.seq, deletedBy: bob.userId });
    expect(JSON.stringify(resumed.frames)).not.toContain("secret that will go");
    resumed.close();
  });

  it("shows the tombstone in its slot in history, between its neighbours", async () => {
    const { alice, bob, room } = await groupRoom();
    const before = await sent(alice, room, "before");
    const m = await sent(bob, room, "the middle one");
    const after = await sent(alice, room, "after");
    await del(bob, room, m.id);
    const page = await alice.history(room);
    expect(page.status).toBe(200);
    expect(page.body.messages.map((x: Message) => [x.id, x.seq, x.content, x.deleted ?? false])).toEqual([
      [before.id, before.seq, "before", false],
      [m.id, m.seq, "", true],
      [after.id, after.seq, "after", false],
    ]);
    // A forward read (gap fill) carries the deletion event too.
    const forward = await alice.history(room, `afterSeq=${m.seq - 1}`);
    expect(forward.body.events.some((e: any) => e.type === "message_deleted" && e.messageId === m.id)).toBe(true);
    expect(JSON.stringify(forward.body)).not.toContain("the middle one");
  });

  it("removes the content from the room's storage, and the alarm destroys the queued copy", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "really gone");
    await del(bob, room, m.id);
    const rows = await roomSql<{ content: string | null; deleted_ts: number | null }>(room, "SELECT content, deleted_ts FROM events WHERE msg_id = ?", m.id);
    expect(rows).toEqual([{ content: null, deleted_ts: expect.any(Number) }]);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM purge_queue WHERE msg_id = ?", m.id)) === 0 ? true : undefined), 5000, "purge_queue to drop the copy");
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE content = ?", "really gone")).toBe(0);
    expect(await roomCount(room, "SELECT count(*) AS n FROM purge_queue WHERE content = ?", "really gone")).toBe(0);
  });

  it("lets the owner delete another member's message", async () => {
    const { alice, bob, room } = await groupRoom();
    const m = await sent(bob, room, "moderate me");
    const res = await del(alice, room, m.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: m.id, sender: bob.userId, deleted: true, deletedBy: alice.userId, content: "" });
  });

  it("refuses a plain member deleting someone else's message with 403 forbidden, and the message stays", async () => {
    const { bob, carol, room } = await groupRoom();
    const m = await sent(bob, room, "carol may not delete this");
    expectError(await del(carol, room, m.id), 403, "forbidden");
    const page = await carol.history(room);
    expect(page.body.messages.find((x: Message) => x.id === m.id)).toMatchObject({ content: "carol may not delete this" });
    expect(page.body.messages.find((x: Message) => x.id === m.id).deleted).toBeUndefined();
  });

  it("refuses a non-member with not_member", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "outsiders stay out");
    const mallory = await newUser("mallory");
    expectError(await del(mallory, room, m.id), 403, "not_member");
  });

  it("lets a deployment admin delete any message, without being a member", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "reported content");
    const admin = await adminUser();
    const res = await del(admin, room, m.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: m.id, deleted: true, deletedBy: admin.userId });
  });

  it("answers 404 message_not_found for an unknown message id", async () => {
    const { alice, room } = await groupRoom();
    expectError(await del(alice, room, "m_doesnotexist"), 404, "message_not_found");
  });

  it("answers a second delete with the same tombstone and publishes no second event", async () => {
    const { alice, bob, room } = await groupRoom();
    const m = await sent(bob, room, "twice");
    const socket = await connect(alice.token, room);
    const first = await del(bob, room, m.id);
    const second = await del(bob, room, m.id);
    // Even by someone else who could have deleted it.
    const third = await del(alice, room, m.id);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(third.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    await waitForEvent(socket, "message_deleted");
    await roundTrip(socket);
    expect(eventsOfType(socket, "message_deleted")).toHaveLength(1);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE type = 'message_deleted'")).toBe(1);
    socket.close();
  });
});

describe("editing a message", () => {
  it("lets the sender edit: same id and seq, new content, editedTs; live sockets get message_edited with the new message", async () => {
    const { alice, bob, room } = await groupRoom();
    const m = await sent(bob, room, "teh typo");
    const socket = await connect(alice.token, room);
    const res = await edit(bob, room, m.id, "the typo");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: m.id, seq: m.seq, sender: bob.userId, ts: m.ts, content: "the typo" });
    expect(res.body.editedTs).toMatch(ISO_MS);
    expect(res.body.deleted).toBeUndefined();
    const frame = await waitForEvent(socket, "message_edited");
    expect(frame.event.message).toEqual(res.body);
    expect(frame.seq).toBeGreaterThan(m.seq);
    const page = await alice.history(room);
    expect(page.body.messages.find((x: Message) => x.id === m.id)).toEqual(res.body);
    socket.close();
  });

  it("destroys the replaced content: it is neither in the log nor, after the alarm, in the purge queue", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "first draft");
    expect((await edit(bob, room, m.id, "final draft")).status).toBe(200);
    expect(await roomCount(room, "SELECT count(*) AS n FROM events WHERE content = 'first draft'")).toBe(0);
    await afterAlarms([room], async () => ((await roomCount(room, "SELECT count(*) AS n FROM purge_queue WHERE msg_id = ?", m.id)) === 0 ? true : undefined));
  });

  it("refuses anyone but the sender with 403 forbidden, the owner and deployment admins included", async () => {
    const { alice, bob, carol, room } = await groupRoom();
    const m = await sent(bob, room, "mine");
    expectError(await edit(carol, room, m.id, "hijacked"), 403, "forbidden");
    expectError(await edit(alice, room, m.id, "hijacked"), 403, "forbidden");
    const admin = await adminUser();
    const byAdmin = await edit(admin, room, m.id, "hijacked");
    expect(byAdmin.status).toBe(403);
    expect((await bob.history(room)).body.messages.find((x: Message) => x.id === m.id).content).toBe("mine");
  });

  it("answers 404 message_not_found for a deleted message, and for an unknown id", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "soon gone");
    await del(bob, room, m.id);
    expectError(await edit(bob, room, m.id, "resurrected"), 404, "message_not_found");
    expectError(await edit(bob, room, "m_nope", "x"), 404, "message_not_found");
    const rows = await roomSql<{ content: string | null }>(room, "SELECT content FROM events WHERE msg_id = ?", m.id);
    expect(rows).toEqual([{ content: null }]);
  });

  it("refuses empty content with 400 and content over the limit with 413", async () => {
    const { bob, room } = await groupRoom();
    const m = await sent(bob, room, "keep me");
    expectError(await edit(bob, room, m.id, ""), 400, "invalid_request");
    expectError(await edit(bob, room, m.id, "x".repeat(16 * 1024 + 1)), 413, "content_too_large");
    expectError(await edit(bob, room, m.id, 42), 400, "invalid_request");
    expect((await bob.history(room)).body.messages.find((x: Message) => x.id === m.id)).toMatchObject({ content: "keep me" });
  });

  it("replays a later edit of a since-deleted message as a tombstone, never the edited text", async () => {
    const { alice, bob, room } = await groupRoom();
    const first = await connect(alice.token, room);
    const live = first.frames.find((f) => f.type === "live") as Extract<(typeof first.frames)[number], { type: "live" }>;
    first.close();
    const m = await sent(bob, room, "v1");
    await edit(bob, room, m.id, "v2 secret");
    await del(bob, room, m.id);
    const resumed = await connect(alice.token, room, { after: { epoch: live.epoch, seq: live.seq } });
    const edited = eventsOfType(resumed, "message_edited");
    expect(edited).toHaveLength(1);
    expect(edited[0]!.message).toMatchObject({ id: m.id, content: "", deleted: true });
    expect(JSON.stringify(resumed.frames)).not.toContain("secret");
    resumed.close();
  });
});
