/** Per-user privacy settings in D1. */
import type { PrivacySettings } from "../protocol";

export async function readPrivacy(db: D1Database, userId: string): Promise<PrivacySettings> {
  const row = await db
    .prepare("SELECT presence_hidden, receipts_private FROM user_settings WHERE user_id = ?")
    .bind(userId)
    .first<{ presence_hidden: number; receipts_private: number }>();
  return { presenceHidden: row?.presence_hidden === 1, receiptsPrivate: row?.receipts_private === 1 };
}

export async function writePrivacy(db: D1Database, userId: string, privacy: PrivacySettings): Promise<void> {
  await db
    .prepare(
      `INSERT INTO user_settings (user_id, presence_hidden, receipts_private, updated_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET presence_hidden = excluded.presence_hidden, receipts_private = excluded.receipts_private, updated_ts = excluded.updated_ts`,
    )
    .bind(userId, privacy.presenceHidden ? 1 : 0, privacy.receiptsPrivate ? 1 : 0, Date.now())
    .run();
}

/** An erasure: the user's privacy settings (batched with the rest of their account by the caller). */
export function privacyErasure(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM user_settings WHERE user_id = ?").bind(userId);
}
