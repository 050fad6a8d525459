/**
 * Rooms for the room suites: a fresh room with named members, the object
 * behind it, and the per-room limits a test lowers on its own instance only
 * (the test Worker runs with huge ones). Built only on ../../helpers.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { Room } from "../../../src/room/room";
import { uniqueRoom, user } from "../../helpers";

export type User = Awaited<ReturnType<typeof user>>;

/** The room object behind a room id. */
export const stubOf = (room: string) => env.ROOMS.getByName(room);

/** A fresh room (id from `prefix`): the first name creates it and owns it, the others join. */
export async function roomOf(prefix: string, ...names: string[]): Promise<{ room: string; users: User[] }> {
  const users = await Promise.all(names.map((n) => user(n)));
  const room = uniqueRoom(prefix);
  expect((await users[0]!.createRoom(room)).status).toBe(201);
  for (const u of users.slice(1)) expect((await u.join(room)).status).toBe(200);
  return { room, users };
}

/**
 * Lowers the room's send bucket. The refill is slow (1 a second by default)
 * so that "the 21st send is refused" does not depend on how fast the test
 * machine gets its requests in.
 */
export async function limitSends(room: string, perSecond = 1, burst = 20): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    const core = instance.core as unknown as { limits: Record<string, number>; sendBuckets: unknown };
    core.limits.sendPerSecond = perSecond;
    core.limits.sendBurst = burst;
    core.sendBuckets = new (instance.core.sendBuckets.constructor as new (c: { perSecond: number; burst: number }) => unknown)({ perSecond, burst });
  });
}

export async function limitMembers(room: string, maxMembers: number): Promise<void> {
  await runInDurableObject(stubOf(room), (instance: Room) => {
    (instance.core.limits as unknown as Record<string, number>).maxMembers = maxMembers;
  });
}
