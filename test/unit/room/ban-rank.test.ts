/** The ranks of bans (policy.ts): who may lift a ban, and when placing one again changes its rank. */
import { describe, expect, it } from "vitest";
import { type BanRank, banRank, mayUnban, outranks } from "../../../src/room/policy";

const user = { userId: "u" };
const staff = { userId: "root", admin: true };

describe("ban ranks", () => {
  it("a ban takes the rank of whoever placed it; a deployment admin ranks above the room's roles", () => {
    expect(banRank(user, "owner")).toBe("owner");
    expect(banRank(user, "admin")).toBe("admin");
    expect(banRank(staff, null)).toBe("deployment");
    expect(banRank(staff, "owner")).toBe("deployment");
  });

  it("only an equal or higher rank lifts a ban", () => {
    const lifts = (actor: { userId: string; admin?: boolean }, role: "owner" | "admin" | "member" | null, rank: BanRank) => mayUnban(actor, role, rank) === null;
    expect(lifts(user, "admin", "admin")).toBe(true);
    expect(lifts(user, "admin", "owner")).toBe(false);
    expect(lifts(user, "admin", "deployment")).toBe(false);
    expect(lifts(user, "owner", "owner")).toBe(true);
    expect(lifts(user, "owner", "deployment")).toBe(false);
    expect(lifts(user, "member", "admin")).toBe(false);
    expect(lifts(staff, null, "deployment")).toBe(true);
    expect(mayUnban(user, "admin", "owner")).toMatchObject({ code: "forbidden", message: expect.stringContaining("owner") });
  });

  it("placing a ban again only ever raises its rank", () => {
    expect(outranks("owner", "admin")).toBe(true);
    expect(outranks("deployment", "owner")).toBe(true);
    expect(outranks("admin", "owner")).toBe(false);
    expect(outranks("owner", "owner")).toBe(false);
  });
});
