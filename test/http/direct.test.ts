/** Direct (1:1) rooms: one room per pair, closed to everyone else, never left. */
import { describe, expect, it } from "vitest";
import { api, errorOf, uniqueUser, user } from "../helpers";

async function pair() {
  const [a, b] = await Promise.all([user(uniqueUser("alice")), user(uniqueUser("bob"))]);
  return { a: a!, b: b! };
}

describe("POST /api/direct/{userId}", () => {
  it("gives both users the same dm. room, whichever side opens it", async () => {
    const { a, b } = await pair();
    const fromA = await a.call("POST", `/api/direct/${b.userId}`);
    expect(fromA.status).toBe(200);
    expect(fromA.body.roomId).toMatch(/^dm\./);
    expect(fromA.body.kind).toBe("direct");
    expect(fromA.body.members).toEqual([a.userId, b.userId].sort());
    const fromB = await b.call("POST", `/api/direct/${a.userId}`);
    expect(fromB.status).toBe(200);
    expect(fromB.body).toEqual(fromA.body);
    // Opening it again changes nothing.
    expect((await a.call("POST", `/api/direct/${b.userId}`)).body).toEqual(fromA.body);
  });

  it("gives different pairs different rooms", async () => {
    const { a, b } = await pair();
    const c = await user(uniqueUser("carol"));
    const ab = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId;
    const ac = (await a.call("POST", `/api/direct/${c.userId}`)).body.roomId;
    const bc = (await b.call("POST", `/api/direct/${c.userId}`)).body.roomId;
    expect(new Set([ab, ac, bc]).size).toBe(3);
  });

  it("lets both members send and read, and counts both as members", async () => {
    const { a, b } = await pair();
    const room = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    expect((await a.send(room, "hi bob")).status).toBe(201);
    expect((await b.send(room, "hi alice")).status).toBe(201);
    for (const u of [a, b]) {
      const page = await u.history(room);
      expect(page.status).toBe(200);
      expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual(["hi bob", "hi alice"]);
    }
    const members = await b.call("GET", `/api/rooms/${room}/members`);
    expect(members.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual(
      [a.userId, b.userId].sort().map((id) => [id, "member"]),
    );
  });

  it("is usable before the other side has ever called the API", async () => {
    const a = await user(uniqueUser("alice"));
    const ghostId = uniqueUser("ghost");
    const room = (await a.call("POST", `/api/direct/${ghostId}`)).body.roomId as string;
    expect((await a.send(room, "are you there?")).status).toBe(201);
    const ghost = await user(ghostId);
    expect((await ghost.history(room)).body.messages).toHaveLength(1);
  });

  it("keeps a third user out: join is 403 forbidden, send and history are 403 not_member", async () => {
    const { a, b } = await pair();
    const carol = await user(uniqueUser("carol"));
    const room = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    expect(errorOf(await carol.join(room))).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect(errorOf(await carol.send(room, "let me in"))).toEqual({ status: 403, code: "not_member", hasMessage: true });
    expect(errorOf(await carol.history(room))).toEqual({ status: 403, code: "not_member", hasMessage: true });
    expect(errorOf(await carol.call("POST", `/api/rooms/${room}/connect-ticket`)).code).toBe("not_member");
    expect((await a.call("GET", `/api/rooms/${room}/active-users`)).body.users).toHaveLength(2);
  });

  it("lets a member 'join' their own direct room as a no-op", async () => {
    const { a, b } = await pair();
    const room = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    expect((await b.join(room)).body).toEqual({ roomId: room, joined: false });
  });

  it("rejects a direct room with oneself as 400 invalid_request", async () => {
    const a = await user(uniqueUser("alice"));
    expect(errorOf(await a.call("POST", `/api/direct/${a.userId}`))).toEqual({ status: 400, code: "invalid_request", hasMessage: true });
  });

  it("rejects an invalid user id as 400 invalid_request", async () => {
    const a = await user(uniqueUser("alice"));
    expect(errorOf(await a.call("POST", "/api/direct/a%20b")).code).toBe("invalid_request");
  });

  it("can be opened with every user id the API accepts, including ids made of dots", async () => {
    const a = await user(uniqueUser("alice"));
    for (const id of [".", ".."]) {
      const issued = await api("POST", "/api/dev/token", { body: { userId: id } });
      if (issued.status !== 200) {
        // Either such ids are refused everywhere...
        expect(errorOf(issued).code).toBe("invalid_request");
        continue;
      }
      // ...or they must be reachable: /api/direct/.. is resolved to /api/ by the URL parser today.
      const res = await a.call("POST", `/api/direct/${id.replaceAll(".", "%2E")}`);
      expect(res.status, `POST /api/direct/${id}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  it("cannot be left: leave is 403 forbidden and both stay members", async () => {
    const { a, b } = await pair();
    const room = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    expect(errorOf(await a.leave(room))).toEqual({ status: 403, code: "forbidden", hasMessage: true });
    expect((await a.send(room, "still here")).status).toBe(201);
    expect((await b.call("GET", `/api/rooms/${room}/active-users`)).body.users).toHaveLength(2);
  });

  it("cannot be created by hand through POST /api/rooms", async () => {
    const { a, b } = await pair();
    const room = (await a.call("POST", `/api/direct/${b.userId}`)).body.roomId as string;
    expect(errorOf(await a.createRoom(room)).code).toBe("invalid_request");
  });
});
