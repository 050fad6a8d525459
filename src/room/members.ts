/** Who belongs to the room. Membership decides every access in the room. */
import type { Role } from "../protocol";

export interface MemberRow extends Record<string, SqlStorageValue> {
  user_id: string;
  role: string;
  joined_ts: number;
  join_seq: number;
  read_seq: number;
  last_seen: number | null;
  presence_hidden: number;
  receipts_private: number;
}

export interface PrivacySettings {
  presenceHidden: boolean;
  receiptsPrivate: boolean;
}

export class Members {
  constructor(private readonly sql: SqlStorage) {}

  get(userId: string): MemberRow | null {
    return this.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id = ?", userId).toArray()[0] ?? null;
  }

  has(userId: string): boolean {
    return this.get(userId) !== null;
  }

  add(userId: string, role: Role, joinedTs: number, joinSeq: number, privacy?: PrivacySettings): void {
    this.#count = null;
    this.sql.exec(
      "INSERT INTO members (user_id, role, joined_ts, join_seq, read_seq, presence_hidden, receipts_private) VALUES (?, ?, ?, ?, ?, ?, ?)",
      userId,
      role,
      joinedTs,
      joinSeq,
      joinSeq,
      privacy?.presenceHidden ? 1 : 0,
      privacy?.receiptsPrivate ? 1 : 0,
    );
  }

  setPrivacy(userId: string, privacy: PrivacySettings): void {
    this.sql.exec(
      "UPDATE members SET presence_hidden = ?, receipts_private = ? WHERE user_id = ?",
      privacy.presenceHidden ? 1 : 0,
      privacy.receiptsPrivate ? 1 : 0,
      userId,
    );
  }

  remove(userId: string): boolean {
    this.#count = null;
    return this.sql.exec("DELETE FROM members WHERE user_id = ?", userId).rowsWritten > 0;
  }

  /** Cached: every send asks (large-room threshold), and count(*) walks the table. */
  #count: number | null = null;

  count(): number {
    this.#count ??= this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM members").one().n;
    return this.#count;
  }

  /** After a bulk change made outside this class (a purge). */
  forgetCount(): void {
    this.#count = null;
  }

  /** Members in the order they joined. */
  list(): MemberRow[] {
    return this.sql.exec<MemberRow>("SELECT * FROM members ORDER BY join_seq").toArray();
  }
}
