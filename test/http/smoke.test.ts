import { describe, expect, it } from "vitest";
import { connect, uniqueRoom, user } from "../helpers";

describe("smoke", () => {
  it("creates a room, sends and reads it back, and delivers live", async () => {
    const alice = await user("alice");
    const room = uniqueRoom();
    expect((await alice.createRoom(room)).status).toBe(201);
    const socket = await connect(alice.token, room);
    const sent = await alice.send(room, "Hello!", "c1");
    expect(sent.status).toBe(201);
    const frame = await socket.waitFor((f) => f.type === "event" && f.event.type === "message");
    expect(frame).toMatchObject({ event: { message: { content: "Hello!" } } });
    socket.close();
  });
});
