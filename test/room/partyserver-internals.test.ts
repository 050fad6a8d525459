/**
 * What the room relies on inside partyserver (pinned to 0.5.10 in
 * package.json). Room.webSocketMessage skips partyserver's per-frame
 * attachment read for sockets it has seen (src/room/room.ts, commit c36054b),
 * which holds only if partyserver's connection is the runtime's socket
 * itself, given its fields, with the room's state kept in the socket's
 * attachment beside partyserver's own. The room's name is also read from
 * partyserver's storage key. If an upgrade of partyserver changes any of
 * this, a case here fails before the room misbehaves.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import type { SocketState } from "../../src/room/connections";
import type { Room } from "../../src/room/room";
import { connect, uniqueRoom, uniqueUser, user } from "../helpers";

async function liveRoom() {
  const alice = await user(uniqueUser("ps-alice"));
  const roomId = uniqueRoom("ps");
  expect((await alice.createRoom(roomId)).status).toBe(201);
  const socket = await connect(alice.token, roomId);
  return { alice, roomId, socket };
}

describe("partyserver internals the room relies on", () => {
  it("is the pinned version", () => {
    expect(pkg.dependencies.partyserver).toBe("0.5.10");
  });

  it("a connection is the runtime's socket itself: the same object getWebSockets() hands webSocketMessage", async () => {
    const { roomId, socket } = await liveRoom();
    await runInDurableObject(env.ROOMS.getByName(roomId), (room: Room, state) => {
      const sockets = state.getWebSockets();
      const connections = [...room.getConnections<SocketState>()];
      expect(sockets).toHaveLength(1);
      expect(connections).toHaveLength(1);
      expect(connections[0]).toBe(sockets[0]);
      // The fields partyserver gives the socket, read without partyserver's iterator.
      const ws = sockets[0] as unknown as { id?: unknown; state?: unknown; setState?: unknown };
      expect(typeof ws.id).toBe("string");
      expect(typeof ws.setState).toBe("function");
    });
    socket.close();
  });

  it("the room's socket state lives in the attachment under __user, beside partyserver's __pk with the connection id", async () => {
    const { alice, roomId, socket } = await liveRoom();
    await runInDurableObject(env.ROOMS.getByName(roomId), (room: Room, state) => {
      const [connection] = [...room.getConnections<SocketState>()];
      const raw = WebSocket.prototype.deserializeAttachment.call(state.getWebSockets()[0]!) as {
        __pk?: { id?: string; tags?: string[] };
        __user?: SocketState;
      };
      expect(raw.__pk?.id).toBe(connection!.id);
      expect(raw.__pk?.tags).toContain(`u:${alice.userId}`);
      expect(raw.__user).toMatchObject({ userId: alice.userId, live: true });
      expect(connection!.state).toEqual(raw.__user);
      // setState writes through to the same attachment, keeping __pk.
      connection!.setState({ ...connection!.state!, acked: 7 });
      const after = WebSocket.prototype.deserializeAttachment.call(state.getWebSockets()[0]!) as typeof raw;
      expect(after.__user?.acked).toBe(7);
      expect(after.__pk?.id).toBe(connection!.id);
    });
    socket.close();
  });

  it("a frame handed straight to webSocketMessage after the first reaches onMessage with the connection's fields", async () => {
    const { roomId, socket } = await liveRoom();
    await runInDurableObject(env.ROOMS.getByName(roomId), async (room: Room, state) => {
      const ws = state.getWebSockets()[0]!;
      // Seen already (the hello went through partyserver): this takes the room's short path.
      await room.webSocketMessage(ws, JSON.stringify({ type: "ping", reqId: "short-path" }));
    });
    await socket.waitFor((f) => f.type === "pong" && f.reqId === "short-path");
    socket.close();
  });

  it("the room's name is kept under partyserver's storage key __ps_name", async () => {
    const { roomId, socket } = await liveRoom();
    const stored = await runInDurableObject(env.ROOMS.getByName(roomId), (_room: Room, state) => state.storage.kv.get<string>("__ps_name"));
    expect(stored).toBe(roomId);
    socket.close();
  });
});
