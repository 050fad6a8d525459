/** Push subscriptions and room mutes in D1 (written by the HTTP API, read by the push consumer). */

export interface StoredSubscription {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** What a registration did: stored (new or the user's own, keys refreshed), or refused. */
export type AddOutcome = "added" | "taken" | "full";

/**
 * Stores the user's subscription in one statement, so two registrations at
 * once cannot pass the cap together. An endpoint stays with the user who
 * registered it: another user's registration of it changes nothing ("taken"),
 * and so does a new endpoint beyond `maxPerUser` ("full"). Re-registering
 * one's own endpoint refreshes its keys and does not count again.
 */
export async function addSubscription(db: D1Database, userId: string, sub: StoredSubscription, maxPerUser = Number.MAX_SAFE_INTEGER): Promise<AddOutcome> {
  const result = await db
    .prepare(
      `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_ts)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM push_subscriptions WHERE user_id = ?2 AND endpoint <> ?1) < ?6
       ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth WHERE push_subscriptions.user_id = excluded.user_id`,
    )
    .bind(sub.endpoint, userId, sub.p256dh, sub.auth, Date.now(), maxPerUser)
    .run();
  if ((result.meta.changes ?? 0) > 0) return "added";
  const owner = await db.prepare("SELECT user_id FROM push_subscriptions WHERE endpoint = ?").bind(sub.endpoint).first<{ user_id: string }>();
  return owner !== null && owner.user_id !== userId ? "taken" : "full";
}

export async function removeSubscription(db: D1Database, userId: string, endpoint: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id = ?").bind(endpoint, userId).run();
  return (result.meta.changes ?? 0) > 0;
}

/** The push service said the subscription is gone (404/410). */
export async function dropSubscription(db: D1Database, endpoint: string): Promise<void> {
  await db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ?").bind(endpoint).run();
}

export async function subscriptionsOf(db: D1Database, userId: string): Promise<StoredSubscription[]> {
  const { results } = await db
    .prepare("SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = ? ORDER BY created_ts")
    .bind(userId)
    .all<StoredSubscription>();
  return results;
}

export async function setMute(db: D1Database, userId: string, roomId: string, untilTs: number | null): Promise<void> {
  await db
    .prepare("INSERT INTO room_mutes (user_id, room_id, until_ts) VALUES (?, ?, ?) ON CONFLICT (user_id, room_id) DO UPDATE SET until_ts = excluded.until_ts")
    .bind(userId, roomId, untilTs)
    .run();
}

export async function clearMute(db: D1Database, userId: string, roomId: string): Promise<void> {
  await db.prepare("DELETE FROM room_mutes WHERE user_id = ? AND room_id = ?").bind(userId, roomId).run();
}

export async function isMuted(db: D1Database, userId: string, roomId: string, now = Date.now()): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS x FROM room_mutes WHERE user_id = ? AND room_id = ? AND (until_ts IS NULL OR until_ts > ?)")
    .bind(userId, roomId, now)
    .first();
  return row !== null;
}

/** An erasure: every push subscription of the user (batched with the rest of their account by the caller). */
export function subscriptionsErasure(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM push_subscriptions WHERE user_id = ?").bind(userId);
}

/** An erasure: every room mute of the user. */
export function mutesErasure(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM room_mutes WHERE user_id = ?").bind(userId);
}
