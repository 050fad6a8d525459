/** Opening an inbox socket: a fresh single-use ticket for one's own inbox, from an allowed Origin. */
import { describe, expect, it } from "vitest";
import { BASE, uniqueUser, upgrade, user } from "../helpers";
import { inboxTicket } from "./helpers";

describe("the inbox socket", () => {
  it("needs a fresh ticket (single use) and an allowed Origin", async () => {
    const bob = await user(uniqueUser("bob"));
    const url = await inboxTicket(bob.token);
    const first = await upgrade(url);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    first.webSocket?.close(1000);
    expect((await upgrade(url)).status).toBe(401);
    expect((await upgrade(await inboxTicket(bob.token), { origin: "https://evil.example" })).status).toBe(403);
    expect((await upgrade(await inboxTicket(bob.token), { origin: "https://chat.example" })).status).toBe(101);
    // Another user's ticket does not open bob's inbox.
    const mallory = await user(uniqueUser("mallory"));
    const malloryUrl = new URL(await inboxTicket(mallory.token), BASE);
    malloryUrl.searchParams.set("user", bob.userId);
    expect((await upgrade(malloryUrl.pathname + malloryUrl.search)).status).toBe(401);
    expect((await bob.call("POST", "/api/inbox/connect-ticket").then(() => upgrade("/api/inbox/ws?user=x&ticket=nope"))).status).toBe(401);
  });
});
