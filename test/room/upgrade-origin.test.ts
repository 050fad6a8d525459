/**
 * What the socket url accepts besides a ticket: an Origin from the
 * allow-list (or none), and only a WebSocket upgrade.
 */
import { describe, expect, it } from "vitest";
import { api, connect, errorOf, framesOf, socketOf, upgrade } from "../helpers";
import { roomOf as roomWith } from "./helpers/rooms";
import { ticket } from "./helpers/sockets";

const roomOf = (...names: string[]) => roomWith("ws", ...names);

describe("WebSocket upgrade: Origin and method", () => {
  it("refuses an Origin outside the allow-list with 403 forbidden, without spending the ticket", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const res = await upgrade(url, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.webSocket).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    // The refusal happened before the room saw the ticket.
    const retry = await upgrade(url, { origin: "https://chat.example" });
    expect(retry.status).toBe(101);
    socketOf(retry).close();
  });

  it("accepts an allowed Origin and a request without Origin", async () => {
    const { room, users } = await roomOf("alice");
    const withOrigin = await connect(users[0]!.token, room, { origin: "https://chat.example" });
    expect(framesOf(withOrigin, "live")).toHaveLength(1);
    const withoutOrigin = await connect(users[0]!.token, room);
    expect(framesOf(withoutOrigin, "live")).toHaveLength(1);
    withOrigin.close();
    withoutOrigin.close();
  });

  it("answers a plain GET of the socket url with 400 invalid_request", async () => {
    const { room, users } = await roomOf("alice");
    const { url } = await ticket(users[0]!, room);
    const res = await api("GET", url);
    expect(errorOf(res).code).toBe("invalid_request");
  });
});
