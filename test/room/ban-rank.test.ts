/**
 * Bans keep the rank they were placed with (issue 15, item 11): only an
 * equal or higher rank lifts one, so a room admin cannot undo an owner's ban,
 * even once the owner has left; and admins cannot ban an owner, present or
 * gone. Deployment admins rank above every role of the room.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/room/schema";
import type { Room } from "../../src/room/room";
import { api, errorOf, tokenFor, uniqueUser } from "../helpers";
import { type User, roomOf, stubOf } from "./helpers/rooms";

async function withAdmins(prefix: string) {
  const names = ["alice", "bob", "carol", "dave"].map((n) => uniqueUser(n));
  const { room, users } = await roomOf(prefix, ...names);
  const [alice, bob, carol, dave] = users as [User, User, User, User];
  for (const u of [bob, carol]) expect((await alice.call("PUT", `/api/rooms/${room}/members/${u.userId}/role`, { role: "admin" })).status).toBe(200);
  const act = (u: User, target: string, action: "kick" | "ban" | "unban") => u.call("POST", `/api/rooms/${room}/members/${target}/${action}`);
  return { room, alice, bob, carol, dave, act };
}

describe("ban ranks", () => {
  it("an admin cannot lift an owner's ban (forbidden); the owner and a deployment admin can", async () => {
    const { room, alice, bob, dave, act } = await withAdmins("ban-rank");
    expect((await act(alice, dave.userId, "ban")).status).toBe(200);
    const refused = await act(bob, dave.userId, "unban");
    expect(errorOf(refused)).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    // Still banned.
    expect(errorOf(await dave.join(room)).code).toBe("forbidden");
    expect((await act(alice, dave.userId, "unban")).status).toBe(200);
    expect((await dave.join(room)).status).toBe(200);
    // A deployment admin outranks the owner's ban too.
    expect((await act(alice, dave.userId, "ban")).status).toBe(200);
    const root = await tokenFor("root", true);
    expect((await api("POST", `/api/rooms/${room}/members/${dave.userId}/unban`, { token: root })).status).toBe(200);
  });

  it("keeps the owner's rank after the owner left: admins still cannot lift it", async () => {
    const { room, alice, bob, dave, act } = await withAdmins("ban-rank");
    expect((await act(alice, dave.userId, "ban")).status).toBe(200);
    expect((await alice.leave(room)).status).toBe(200);
    expect(errorOf(await act(bob, dave.userId, "unban")).code).toBe("forbidden");
    expect(errorOf(await dave.join(room)).code).toBe("forbidden");
  });

  it("an admin's ban is lifted by another admin or the owner, and keeps its rank after its banner is demoted", async () => {
    const { room, alice, bob, carol, dave, act } = await withAdmins("ban-rank");
    expect((await act(bob, dave.userId, "ban")).status).toBe(200);
    expect((await act(carol, dave.userId, "unban")).status).toBe(200);
    expect((await act(bob, dave.userId, "ban")).status).toBe(200);
    expect((await alice.call("PUT", `/api/rooms/${room}/members/${bob.userId}/role`, { role: "member" })).status).toBe(200);
    expect((await act(carol, dave.userId, "unban")).status).toBe(200);
  });

  it("a ban placed again by a higher rank takes that rank; a lower one never lowers it", async () => {
    const { alice, bob, carol, dave, act } = await withAdmins("ban-rank");
    expect((await act(bob, dave.userId, "ban")).status).toBe(200);
    expect((await act(alice, dave.userId, "ban")).status).toBe(200);
    expect(errorOf(await act(carol, dave.userId, "unban")).code).toBe("forbidden");
    // An admin banning again does not bring it down to an admin's ban.
    expect((await act(carol, dave.userId, "ban")).status).toBe(200);
    expect(errorOf(await act(carol, dave.userId, "unban")).code).toBe("forbidden");
  });

  it("admins cannot ban or kick the owner, nor an owner who left; a deployment admin can ban an owner who left", async () => {
    const { room, alice, bob, act } = await withAdmins("ban-owner");
    expect(errorOf(await act(bob, alice.userId, "ban")).code).toBe("forbidden");
    expect((await alice.leave(room)).status).toBe(200);
    expect(errorOf(await act(bob, alice.userId, "ban")).code).toBe("forbidden");
    expect(errorOf(await act(bob, alice.userId, "kick")).code).toBe("forbidden");
    const root = await tokenFor("root", true);
    expect((await api("POST", `/api/rooms/${room}/members/${alice.userId}/ban`, { token: root })).status).toBe(200);
    expect(errorOf(await alice.join(room)).code).toBe("forbidden");
    // The deployment admin's ban outranks the room's own admins.
    expect(errorOf(await act(bob, alice.userId, "unban")).code).toBe("forbidden");
  });

  it("the upgrade ranks bans from before it: a banner still in the room by their role, one who left as an owner", async () => {
    const { room, alice, bob, carol, act } = await withAdmins("ban-legacy");
    const strangers = [uniqueUser("x"), uniqueUser("y"), uniqueUser("z")];
    // Bans as the schema before upgrade 7 stored them: no rank.
    await runInDurableObject(stubOf(room), (instance: Room) => {
      const sql = (instance as unknown as { ctx: DurableObjectState }).ctx.storage.sql;
      const version = sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version;
      sql.exec("ALTER TABLE bans DROP COLUMN banned_by_rank");
      sql.exec("UPDATE schema_version SET version = ?", version - 1);
      sql.exec("INSERT INTO bans (user_id, banned_by, banned_ts) VALUES (?, ?, 1), (?, ?, 1), (?, ?, 1)", strangers[0], alice.userId, strangers[1], bob.userId, strangers[2], "gone-admin");
      migrate(sql);
      expect(sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version).toBe(version);
    });
    // The owner's ban: an owner's. A present admin's: an admin's. A banner who is gone: an owner's.
    expect(errorOf(await act(carol, strangers[0]!, "unban")).code).toBe("forbidden");
    expect((await act(carol, strangers[1]!, "unban")).status).toBe(200);
    expect(errorOf(await act(carol, strangers[2]!, "unban")).code).toBe("forbidden");
    expect((await act(alice, strangers[2]!, "unban")).status).toBe(200);
  });
});
