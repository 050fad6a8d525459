/**
 * Sockets of a room and what each needs to know about itself. Everything here
 * lives in the socket's attachment (partyserver's connection state), because
 * hibernation drops instance fields and eviction drops the whole instance.
 */
import type { Connection } from "partyserver";
import type { ServerFrame } from "../protocol";

export interface SocketState {
  userId: string;
  /** Set once `hello` (and any replay) is done: only live sockets get new events. */
  live: boolean;
}

export type RoomConnection = Connection<SocketState>;

export const userTag = (userId: string) => `u:${userId}`;

export function send(connection: RoomConnection, frame: ServerFrame): void {
  sendRaw(connection, JSON.stringify(frame));
}

/**
 * A send to a socket that is closing throws; one dead socket must not stop a
 * broadcast to the others, and its close handler will clean it up.
 */
export function sendRaw(connection: RoomConnection, text: string): void {
  try {
    connection.send(text);
  } catch {
    // The socket is already gone; webSocketClose/error will follow.
  }
}

/** Serialises a frame once and sends it to every live socket. Returns the number of deliveries. */
export function broadcastLive(connections: Iterable<RoomConnection>, frame: ServerFrame): number {
  const text = JSON.stringify(frame);
  let delivered = 0;
  for (const connection of connections) {
    if (connection.state?.live !== true) continue;
    sendRaw(connection, text);
    delivered++;
  }
  return delivered;
}

export function closeQuietly(connection: RoomConnection, code: number, reason: string): void {
  try {
    connection.close(code, reason);
  } catch {
    // Already closed.
  }
}
