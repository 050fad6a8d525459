/**
 * Helpers for the deletion suites (messages, rooms, sync, holds, audit,
 * erasure). Built only on the committed exports of ../helpers.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { Message, ServerFrame } from "../../src/protocol";
import type { Room } from "../../src/room/room";
import { type TestSocket, api, tokenFor, uniqueRoom, user } from "../helpers";

export type TestUser = Awaited<ReturnType<typeof user>>;
export type EventFrame = Extract<ServerFrame, { type: "event" }>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let counter = 0;
/** A user id no other test (or test file) uses: holds and sync logs are per user and global. */
export const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A user with a unique id (the prefix names the role in the test). */
export const newUser = (prefix: string) => user(uid(prefix));

/** The room object behind a room id. */
export const roomStub = (roomId: string) => env.ROOMS.getByName(roomId);

/** Runs one SQL query inside the room object and returns its rows. */
export function roomSql<T extends Record<string, SqlStorageValue>>(roomId: string, query: string, ...args: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(roomStub(roomId), (_room: Room, state) => state.storage.sql.exec<T>(query, ...args).toArray());
}

export async function roomCount(roomId: string, query: string, ...args: SqlStorageValue[]): Promise<number> {
  const rows = await roomSql<{ n: number }>(roomId, query, ...args);
  return rows[0]!.n;
}

/** Runs the room's alarm now if one is set (outbox flush, purge). */
export const runAlarm = (roomId: string) => runDurableObjectAlarm(roomStub(roomId));

/** Lowers the undo window of the live room instance (call before deleting). */
export const setUndoWindow = (roomId: string, ms: number) =>
  runInDurableObject(roomStub(roomId), (room: Room) => {
    (room.core.limits as { undoWindowMs: number }).undoWindowMs = ms;
  });

/** Polls `probe` (every 50 ms) until it returns something other than undefined, or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Like `eventually`, but runs the room's alarm before each probe so outbox and purge work happen now. */
export function afterAlarms<T>(roomIds: string[], probe: () => Promise<T | undefined>, ms = 5000, what = "condition"): Promise<T> {
  return eventually(
    async () => {
      for (const roomId of roomIds) await runAlarm(roomId);
      return probe();
    },
    ms,
    what,
  );
}

/** A deployment admin (token with the admin claim). */
export async function adminUser(userId = "root") {
  const token = await tokenFor(userId, true);
  return {
    userId,
    token,
    call: <T = any>(method: string, path: string, body?: unknown) => api<T>(method, path, { token, body }),
  };
}

/** Every event frame a socket received, in arrival order. */
export function eventsOf(socket: TestSocket): EventFrame[] {
  return socket.frames.filter((f): f is EventFrame => f.type === "event");
}

export function eventsOfType<K extends EventFrame["event"]["type"]>(socket: TestSocket, type: K): Extract<EventFrame["event"], { type: K }>[] {
  return eventsOf(socket).flatMap((f) => (f.event.type === type ? [f.event as Extract<EventFrame["event"], { type: K }>] : []));
}

let pings = 0;
/** A ping/pong round trip: once the pong is here, every frame sent before it has arrived. */
export async function roundTrip(socket: TestSocket, ms = 3000): Promise<void> {
  const reqId = `del-sync-${++pings}`;
  socket.send({ type: "ping", reqId });
  await socket.waitFor((f) => f.type === "pong" && f.reqId === reqId, ms);
}

/** Waits for the socket's event of this type. */
export function waitForEvent<K extends EventFrame["event"]["type"]>(socket: TestSocket, type: K, ms = 3000) {
  return socket.waitFor((f): f is EventFrame => f.type === "event" && f.event.type === type, ms) as Promise<EventFrame & { event: Extract<EventFrame["event"], { type: K }> }>;
}

export function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

export interface SyncEventRow {
  type: string;
  roomId: string;
  ts: string;
}

/** One GET /api/sync call. */
export function syncPage(token: string, cursor?: string) {
  return api<{ events: SyncEventRow[]; cursor: string; hasMore: boolean }>("GET", `/api/sync${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`, { token });
}

/** Reads the whole sync log from `cursor` (following hasMore); returns the events and the final cursor. */
export async function syncAll(token: string, cursor?: string): Promise<{ events: SyncEventRow[]; cursor: string }> {
  const events: SyncEventRow[] = [];
  let next = cursor;
  for (let i = 0; i < 100; i++) {
    const res = await syncPage(token, next);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    next = res.body.cursor;
    if (!res.body.hasMore) return { events, cursor: next };
  }
  throw new Error("sync did not end");
}

export interface AuditRow {
  seq: number;
  id: string;
  ts: string;
  actor: string;
  action: string;
  roomId: string | null;
  target: string | null;
  detail: string | null;
}

/** All audit entries (optionally of one room), following nextAfter. */
export async function auditAll(adminToken: string, roomId?: string): Promise<AuditRow[]> {
  const entries: AuditRow[] = [];
  let after = 0;
  for (let i = 0; i < 1000; i++) {
    const q = new URLSearchParams({ after: String(after), limit: "500" });
    if (roomId) q.set("roomId", roomId);
    const res = await api<{ entries: AuditRow[]; nextAfter: number | null }>("GET", `/api/admin/audit?${q}`, { token: adminToken });
    expect(res.status).toBe(200);
    entries.push(...res.body.entries);
    if (res.body.nextAfter === null) return entries;
    after = res.body.nextAfter;
  }
  throw new Error("audit did not end");
}

/** A group room (id from `prefix`): alice owns it, bob and carol are plain members, all with unique ids. */
export async function groupRoom(prefix: string) {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const carol = await newUser("carol");
  const room = uniqueRoom(prefix);
  expect((await alice.createRoom(room)).status).toBe(201);
  expect((await bob.join(room)).status).toBe(200);
  expect((await carol.join(room)).status).toBe(200);
  return { alice, bob, carol, room };
}

/** Sends over HTTP and returns the stored message; fails the test unless it is 201. */
export async function sent(u: TestUser, room: string, content: string): Promise<Message> {
  const res = await u.send(room, content);
  expect(res.status).toBe(201);
  return res.body as Message;
}

/** DELETE of one message, as a member or a deployment admin. */
export const deleteMessage = (u: { call: TestUser["call"] }, room: string, id: string) =>
  u.call<any>("DELETE", `/api/rooms/${room}/messages/${encodeURIComponent(id)}`);

/** PATCH of one message's content. */
export const editMessage = (u: { call: TestUser["call"] }, room: string, id: string, content: unknown) =>
  u.call<any>("PATCH", `/api/rooms/${room}/messages/${encodeURIComponent(id)}`, { content });

/** DELETE of a whole room, and POST restore. */
export const deleteRoom = (u: { call: TestUser["call"] }, room: string) => u.call<any>("DELETE", `/api/rooms/${room}`);
export const restoreRoom = (u: { call: TestUser["call"] }, room: string) => u.call<any>("POST", `/api/rooms/${room}/restore`);
