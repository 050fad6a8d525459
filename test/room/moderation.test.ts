/**
 * Moderation: kick and ban (sockets closed at once with 4003, no reads or
 * sends after), unban, who may moderate whom, and roles.
 */
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../../src/protocol";
import { connect, errorOf, user } from "../helpers";
import { type User, roomOf as roomWith } from "./helpers/rooms";

type AckFrame = Extract<ServerFrame, { type: "ack" }>;

const roomOf = (...names: string[]) => roomWith("mod", ...names);

describe("kick and ban", () => {
  it("kick closes every socket of the target at once with 4003; they can no longer read, send or connect; they may join again", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const phone = await connect(bob.token, room);
    const laptop = await connect(bob.token, room);
    const watcher = await connect(alice.token, room);
    const res = await alice.call("POST", `/api/rooms/${room}/members/bob/kick`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: room, userId: "bob", action: "kicked" });
    expect((await phone.waitClosed(2000)).code).toBe(4003);
    expect((await laptop.waitClosed(2000)).code).toBe(4003);
    // The others see the member leave and stay connected.
    await watcher.waitFor((f) => f.type === "event" && f.event.type === "member_left" && f.event.userId === "bob");
    expect(watcher.closed).toBeNull();

    expect(errorOf(await bob.history(room)).code).toBe("not_member");
    expect(errorOf(await bob.send(room, "still here?")).code).toBe("not_member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/connect-ticket`)).code).toBe("not_member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/read`, { seq: 1 })).code).toBe("not_member");
    // A kick is not a ban.
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: true });
    watcher.close();
  });

  it("ban closes the target's sockets with 4003 and keeps them out until unbanned", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const socket = await connect(bob.token, room);
    expect((await alice.call("POST", `/api/rooms/${room}/members/bob/ban`)).body.action).toBe("banned");
    expect((await socket.waitClosed(2000)).code).toBe(4003);
    expect(errorOf(await bob.history(room)).code).toBe("not_member");
    expect(errorOf(await bob.send(room, "let me in")).code).toBe("not_member");
    const rejoin = await bob.join(room);
    expect(errorOf(rejoin)).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect(rejoin.body.error.message).toMatch(/banned/);
    // A ban also holds against someone who was not (yet) a member.
    const carol = await user("carol");
    expect((await alice.call("POST", `/api/rooms/${room}/members/carol/ban`)).status).toBe(200);
    expect(errorOf(await carol.join(room)).code).toBe("forbidden");

    expect((await alice.call("POST", `/api/rooms/${room}/members/bob/unban`)).body).toEqual({ roomId: room, userId: "bob", action: "unbanned" });
    expect((await bob.join(room)).body).toEqual({ roomId: room, joined: true });
    expect((await bob.send(room, "back")).status).toBe(201);
  });

  it("stops a kicked user's frames at once: a send racing the kick is either stored before it or never", async () => {
    const { room, users } = await roomOf("alice", "bob");
    const [alice, bob] = users as [User, User];
    const socket = await connect(bob.token, room);
    for (let i = 0; i < 20; i++) socket.send({ type: "send", reqId: `k${i}`, content: `racing-${i}` });
    const kick = await alice.call("POST", `/api/rooms/${room}/members/bob/kick`);
    expect(kick.status).toBe(200);
    await socket.waitClosed(2000);
    const acked = socket.frames.filter((f): f is AckFrame => f.type === "ack").map((f) => f.message.id);
    const forward = await alice.history(room, "afterSeq=0&limit=200");
    const stored: Array<{ id: string; seq: number }> = forward.body.messages.filter((m: { sender: string }) => m.sender === "bob");
    // Exactly what was acknowledged is stored, and all of it before bob left.
    expect(stored.map((m) => m.id).sort()).toEqual([...acked].sort());
    const left = forward.body.events.find((e: { type: string; userId?: string }) => e.type === "member_left" && e.userId === "bob");
    expect(left).toBeDefined();
    for (const m of stored) expect(m.seq).toBeLessThan(left.seq);
  });
});

describe("who may moderate whom", () => {
  it("room admins moderate plain members only; owners anyone but themselves; plain members nobody", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol", "dave", "erin");
    const [alice, bob, , dave] = users as [User, User, User, User, User];
    for (const id of ["bob", "carol"]) {
      expect((await alice.call("PUT", `/api/rooms/${room}/members/${id}/role`, { role: "admin" })).body).toEqual({
        roomId: room,
        userId: id,
        action: "role_changed",
        role: "admin",
      });
    }
    const act = (u: User, target: string, action: string) => u.call("POST", `/api/rooms/${room}/members/${target}/${action}`);
    // A room admin: not the owner, not another admin, not themselves.
    expect(errorOf(await act(bob, "alice", "kick")).code).toBe("forbidden");
    expect(errorOf(await act(bob, "carol", "ban")).code).toBe("forbidden");
    expect(errorOf(await act(bob, "bob", "kick")).code).toBe("invalid_request");
    // A plain member: nobody.
    expect(errorOf(await act(dave, "erin", "kick")).code).toBe("forbidden");
    expect(errorOf(await act(dave, "bob", "kick")).code).toBe("forbidden");
    // A room admin on a plain member: yes.
    expect((await act(bob, "dave", "kick")).status).toBe(200);
    expect((await act(bob, "erin", "ban")).status).toBe(200);
    expect((await act(bob, "erin", "unban")).status).toBe(200);
    // The owner on an admin: yes; on themselves: no.
    expect((await act(alice, "carol", "kick")).status).toBe(200);
    expect(errorOf(await act(alice, "alice", "ban")).code).toBe("invalid_request");
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { userId: string; role: string }) => `${m.userId}:${m.role}`)).toEqual(["alice:owner", "bob:admin"]);
  });

  it("only the owner sets roles, never on the owner; a demoted admin loses their powers at once", async () => {
    const { room, users } = await roomOf("alice", "bob", "carol");
    const [alice, bob, carol] = users as [User, User, User];
    const setRole = (u: User, target: string, role: string) => u.call("PUT", `/api/rooms/${room}/members/${target}/role`, { role });
    expect((await setRole(alice, "bob", "admin")).status).toBe(200);
    // An admin may not make admins, nor demote one.
    expect(errorOf(await setRole(bob, "carol", "admin")).code).toBe("forbidden");
    expect(errorOf(await setRole(carol, "bob", "member")).code).toBe("forbidden");
    // Nobody changes the owner's role, the owner included.
    expect(errorOf(await setRole(alice, "alice", "member")).code).toBe("forbidden");
    expect(errorOf(await setRole(bob, "alice", "member")).code).toBe("forbidden");
    // Only known roles, only members.
    expect(errorOf(await setRole(alice, "carol", "owner")).code).toBe("invalid_request");
    expect(errorOf(await setRole(alice, "nobody-here", "admin")).code).toBe("not_member");
    // Demoted: bob can no longer kick carol.
    expect((await setRole(alice, "bob", "member")).body.role).toBe("member");
    expect(errorOf(await bob.call("POST", `/api/rooms/${room}/members/carol/kick`)).code).toBe("forbidden");
    const members = await alice.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { role: string }) => m.role)).toEqual(["owner", "member", "member"]);
  });
});
