/** The readiness probe's query (src/ops/health.ts): the cheapest statement D1 must answer. */
export async function pingD1(db: D1Database): Promise<void> {
  await db.prepare("SELECT 1 AS one").first();
}
