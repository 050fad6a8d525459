/** The legal holds a room's purge must obey: users whose content must not be destroyed. */

/** Users under an active legal hold; throws when D1 cannot say (the caller then destroys nothing). */
export async function heldUsers(db: D1Database): Promise<Set<string>> {
  const { results } = await db.prepare("SELECT DISTINCT target FROM legal_holds WHERE kind = 'user' AND released_ts IS NULL").all<{ target: string }>();
  return new Set(results.map((r) => r.target));
}
