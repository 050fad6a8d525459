/**
 * Socket vocabulary shared by the room's socket suites: typed frame
 * predicates, a connect ticket as a member gets it, and "these n messages,
 * and no more" on one socket. Built only on ../../helpers.
 */
import { expect } from "vitest";
import type { Message, ServerFrame } from "../../../src/protocol";
import { type TestSocket, api, messageEvents } from "../../helpers";
import type { User } from "./rooms";

export type AckFrame = Extract<ServerFrame, { type: "ack" }>;
export type ErrorFrame = Extract<ServerFrame, { type: "error" }>;
export type EventFrame = Extract<ServerFrame, { type: "event" }>;

export const isEvent = (f: ServerFrame): f is EventFrame => f.type === "event";
export const isMessageEvent = (content: string) => (f: ServerFrame) => isEvent(f) && f.event.type === "message" && f.event.message.content === content;

/** POST connect-ticket for a member; fails the test unless it is 200. */
export async function ticket(u: User, room: string) {
  const res = await api<{ ticket: string; url: string; expiresTs: string }>("POST", `/api/rooms/${room}/connect-ticket`, { token: u.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Waits until the socket has received `n` message events, then checks no more arrive (a ping round trip). */
export async function messagesOn(socket: TestSocket, n: number): Promise<Message[]> {
  await socket.waitFor(() => messageEvents(socket).length >= n);
  await socket.sync();
  return messageEvents(socket);
}
