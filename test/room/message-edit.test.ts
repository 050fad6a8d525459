/**
 * Editing messages: only by the sender, same id and seq with new content,
 * live and replayed events, the replaced content destroyed, and a deleted
 * message never coming back through an edit.
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
  eventsOfType,
  expectError,
  newUser,
  roomCount,
  roomSql,
  waitForEvent,
} from "./deletion-helpers";

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const groupRoom = () => sharedGroupRoom("msgdel");
const del = deleteMessage;
const edit = editMessage;

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
