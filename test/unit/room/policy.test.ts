/** The room's rules that need no storage (src/room/policy.ts), fact by fact. */
import { describe, expect, it } from "vitest";
import { fail, ok } from "../../../src/protocol";
import {
  checkContent,
  mayDeleteMessage,
  mayDeleteRoom,
  mayEdit,
  mayModerate,
  mayRestore,
  maySetRetention,
  maySetRole,
  memberOrAdmin,
} from "../../../src/room/policy";

const alice = { userId: "alice" };
const admin = { userId: "root", admin: true };
const codeOf = (refusal: { code: string } | null) => refusal?.code ?? null;

describe("memberOrAdmin", () => {
  it("passes a member's role through", () => {
    expect(memberOrAdmin(alice, ok("admin"))).toEqual(ok("admin"));
  });

  it("lets a deployment admin who is not a member act, with no role", () => {
    expect(memberOrAdmin(admin, fail("not_member", "x"))).toEqual(ok(null));
  });

  it("keeps every other refusal, for admins too", () => {
    expect(memberOrAdmin(alice, fail("not_member", "x")).ok).toBe(false);
    const deleted = memberOrAdmin(admin, fail("room_deleted", "x"));
    expect(deleted.ok ? null : deleted.error.code).toBe("room_deleted");
    const missing = memberOrAdmin(admin, fail("room_not_found", "x"));
    expect(missing.ok ? null : missing.error.code).toBe("room_not_found");
  });
});

describe("messages", () => {
  it("only the sender edits, even an admin may not", () => {
    expect(mayEdit(alice, "alice")).toBeNull();
    expect(codeOf(mayEdit(alice, "bob"))).toBe("forbidden");
    expect(codeOf(mayEdit(admin, "bob"))).toBe("forbidden");
  });

  it("the sender, owners, room admins and deployment admins delete; plain members only their own", () => {
    expect(mayDeleteMessage(alice, "member", "alice")).toBeNull();
    expect(codeOf(mayDeleteMessage(alice, "member", "bob"))).toBe("forbidden");
    expect(mayDeleteMessage(alice, "owner", "bob")).toBeNull();
    expect(mayDeleteMessage(alice, "admin", "bob")).toBeNull();
    expect(mayDeleteMessage(admin, null, "bob")).toBeNull();
  });

  it("content: not empty without attachments, well-formed, within the byte limit in UTF-8", () => {
    expect(codeOf(checkContent("", false, 10))).toBe("invalid_request");
    expect(checkContent("", true, 10)).toBeNull();
    expect(codeOf(checkContent("a\ud800b", false, 10))).toBe("invalid_request");
    expect(checkContent("0123456789", false, 10)).toBeNull();
    expect(codeOf(checkContent("01234567890", false, 10))).toBe("content_too_large");
    // Five characters, ten bytes: the UTF-8 size counts, not the length.
    expect(checkContent("ééééé", false, 10)).toBeNull();
    expect(codeOf(checkContent("éééééé", false, 10))).toBe("content_too_large");
  });
});

describe("room deletion and restore", () => {
  it("either participant deletes a direct room; a group only its owners, admins and deployment admins", () => {
    expect(mayDeleteRoom(alice, "member", "direct")).toBeNull();
    expect(codeOf(mayDeleteRoom(alice, "member", "group"))).toBe("forbidden");
    expect(mayDeleteRoom(alice, "owner", "group")).toBeNull();
    expect(mayDeleteRoom(alice, "admin", "group")).toBeNull();
    expect(mayDeleteRoom(admin, null, "group")).toBeNull();
  });

  it("the deleter, owners, admins and deployment admins restore; nobody else", () => {
    expect(mayRestore(alice, "member", "alice")).toBeNull();
    expect(codeOf(mayRestore(alice, "member", "bob"))).toBe("forbidden");
    expect(codeOf(mayRestore(alice, null, null))).toBe("forbidden");
    expect(mayRestore(alice, "owner", "bob")).toBeNull();
    expect(mayRestore(alice, "admin", "bob")).toBeNull();
    expect(mayRestore(admin, null, "bob")).toBeNull();
  });
});

describe("moderation and roles", () => {
  it("owners act on anyone else, admins on plain members only, plain members on nobody", () => {
    expect(mayModerate(alice, "owner", "group", "bob", "admin")).toBeNull();
    expect(mayModerate(alice, "admin", "group", "bob", "member")).toBeNull();
    expect(mayModerate(alice, "admin", "group", "bob", null)).toBeNull();
    expect(codeOf(mayModerate(alice, "admin", "group", "bob", "admin"))).toBe("forbidden");
    expect(codeOf(mayModerate(alice, "admin", "group", "bob", "owner"))).toBe("forbidden");
    expect(codeOf(mayModerate(alice, "member", "group", "bob", "member"))).toBe("forbidden");
    expect(mayModerate(admin, null, "group", "bob", "owner")).toBeNull();
  });

  it("nobody moderates themselves, and direct rooms have no moderators", () => {
    expect(codeOf(mayModerate(alice, "owner", "group", "alice", "owner"))).toBe("invalid_request");
    expect(codeOf(mayModerate(admin, null, "direct", "bob", "member"))).toBe("forbidden");
  });

  it("owners and deployment admins change roles, never the owner's", () => {
    expect(maySetRole(alice, "owner", "member")).toBeNull();
    expect(maySetRole(admin, null, "admin")).toBeNull();
    expect(codeOf(maySetRole(alice, "admin", "member"))).toBe("forbidden");
    expect(codeOf(maySetRole(alice, "owner", "owner"))).toBe("forbidden");
    expect(codeOf(maySetRole(admin, null, "owner"))).toBe("forbidden");
  });

  it("owners, admins and deployment admins set retention; plain members do not", () => {
    expect(maySetRetention(alice, "owner")).toBeNull();
    expect(maySetRetention(alice, "admin")).toBeNull();
    expect(maySetRetention(admin, null)).toBeNull();
    expect(codeOf(maySetRetention(alice, "member"))).toBe("forbidden");
  });
});
