/**
 * Deleting messages: tombstones in their slot, live and replayed events, who
 * may delete, and the content really gone from storage. (Editing is
 * message-edit.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { Message } from "../../src/protocol";
import { connect } from "../helpers";
import {
  deleteMessage,
  editMessage,
  groupRoom as sharedGroupRoom,
  sent,
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

const groupRoom = () => sharedGroupRoom("msgdel");
const del = deleteMessage;
const edit = editMessage;

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
