/**
 * Authentication by route: the authenticated prefixes need a bearer token for
 * every request, whatever the path ends in; the WebSocket upgrades and signed
 * downloads are public because they are public routes, and still work without
 * a bearer token.
 */
import { afterAll, describe, expect, it } from "vitest";
import { api, closeOpenSockets, errorOf, socketOf, uniqueRoom, upgrade, user } from "../helpers";
import { download, equalBytes, png, upload } from "../media/fixtures";

const UNAUTHORIZED = { status: 401, code: "unauthorized", hasMessage: true };

afterAll(closeOpenSockets);

describe("authenticated prefixes", () => {
  it("answers DELETE /api/rooms/ws without a token with 401, like any unauthenticated API call", async () => {
    const res = await api("DELETE", "/api/rooms/ws");
    expect(errorOf(res)).toEqual(UNAUTHORIZED);
    expect(res.body.error.message).toBe("missing bearer token");
  });

  it.each([
    ["POST", "/api/rooms/ws/leave"],
    ["GET", "/api/rooms/ws"],
    ["POST", "/api/rooms/some-room/ws"],
    ["GET", "/api/rooms/some-room/messages/ws"],
    ["GET", "/api/rooms/some-room/media/med_0123456789abcdef/ws"],
    ["DELETE", "/api/rooms/some-room/media/med_0123456789abcdef?sig=x"],
    ["GET", "/api/rooms/some-room/media/med_0123456789abcdef/url?sig=x"],
  ])("answers %s %s without a token with 401: no path or query opens an authenticated prefix", async (method, path) => {
    expect(errorOf(await api(method, path))).toEqual(UNAUTHORIZED);
  });
});

describe("public routes under authenticated prefixes", () => {
  it("upgrades a room socket with a connect ticket and no bearer token", async () => {
    const alice = await user("by-route-ws");
    const room = uniqueRoom("by-route");
    await alice.createRoom(room);
    const ticket = await alice.call<{ url: string }>("POST", `/api/rooms/${room}/connect-ticket`);
    expect(ticket.status).toBe(200);
    const res = await upgrade(ticket.body.url);
    expect(res.status).toBe(101);
    const socket = socketOf(res);
    socket.send({ type: "hello", protocol: 1 });
    await socket.waitFor((f) => f.type === "live");
  });

  it("refuses a room upgrade with a bad ticket through the ticket check, not the bearer check", async () => {
    const res = await upgrade(`/api/rooms/${uniqueRoom("by-route")}/ws?ticket=bogus`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.message).not.toBe("missing bearer token");
  });

  it("upgrades an inbox socket with a connect ticket and no bearer token", async () => {
    const alice = await user("by-route-inbox");
    const ticket = await alice.call<{ url: string }>("POST", "/api/inbox/connect-ticket");
    expect(ticket.status).toBe(200);
    const res = await upgrade(ticket.body.url);
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000, "done");
  });

  it("serves a signed download (GET and HEAD) without a bearer token, and asks for one without a signature", async () => {
    const alice = await user("by-route-media");
    const room = uniqueRoom("by-route");
    await alice.createRoom(room);
    const file = png(4000);
    const up = await upload(alice.token, room, file, { filename: "p.png" });
    expect(up.status).toBe(201);
    const signed = await alice.call<{ url: string }>("GET", `/api/rooms/${room}/media/${up.body.mediaId}/url`);
    expect(signed.status).toBe(200);

    const got = await download(signed.body.url);
    expect(got.status).toBe(200);
    expect(equalBytes(got.bytes, file)).toBe(true);
    const head = await download(signed.body.url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(file.byteLength));

    const unsigned = await api("GET", `/api/rooms/${room}/media/${up.body.mediaId}`);
    expect(errorOf(unsigned)).toEqual(UNAUTHORIZED);
    expect(unsigned.body.error.message).toBe("missing bearer token");
    // A bearer token still works on the same route.
    expect((await download(`/api/rooms/${room}/media/${up.body.mediaId}`, { token: alice.token })).status).toBe(200);
  });
});
