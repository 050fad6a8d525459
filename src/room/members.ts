/**
 * Who belongs to the room, and who may not come back. Membership decides
 * every access in the room. Owner of `members` (roles, join order, privacy,
 * read positions, last seen) and `bans` (who placed each, and with what rank).
 */
import type { PrivacySettings, Role } from "../protocol";
import type { BanRank } from "./policy";

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

export class Members {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * Roles of members seen since the object woke: every send and every frame
   * asks whether its sender belongs, and a SELECT per message was a visible
   * part of the send path's cost (bench/README.md). Only members are cached
   * (a stranger cannot grow the map), and every change of membership or role
   * goes through this class, which keeps it true.
   */
  #roles = new Map<string, Role>();

  /** The member's role, or null for a non-member. */
  role(userId: string): Role | null {
    const cached = this.#roles.get(userId);
    if (cached !== undefined) return cached;
    const row = this.sql.exec<{ role: string }>("SELECT role FROM members WHERE user_id = ?", userId).toArray()[0];
    if (!row) return null;
    this.#roles.set(userId, row.role as Role);
    return row.role as Role;
  }

  setRole(userId: string, role: Role): void {
    this.sql.exec("UPDATE members SET role = ? WHERE user_id = ?", role, userId);
    this.#roles.delete(userId);
  }

  /** Every member gone at once (a purge). */
  removeAll(): void {
    this.sql.exec("DELETE FROM members");
    this.#roles.clear();
    this.#count = null;
  }

  get(userId: string): MemberRow | null {
    return this.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id = ?", userId).toArray()[0] ?? null;
  }

  has(userId: string): boolean {
    return this.role(userId) !== null;
  }

  add(userId: string, role: Role, joinedTs: number, joinSeq: number, privacy?: PrivacySettings): void {
    this.#count = null;
    this.#roles.delete(userId);
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
    this.#roles.delete(userId);
    return this.sql.exec("DELETE FROM members WHERE user_id = ?", userId).rowsWritten > 0;
  }

  /** Cached: every send asks (large-room threshold), and count(*) walks the table. */
  #count: number | null = null;

  count(): number {
    this.#count ??= this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM members").one().n;
    return this.#count;
  }

  /**
   * Moves the member's stored read position forward to `seq` (never back).
   * Null when nothing moved; else whether their receipts are private.
   */
  advanceRead(userId: string, seq: number): { receiptsPrivate: boolean } | null {
    const row = this.sql
      .exec<{ receipts_private: number }>("UPDATE members SET read_seq = ? WHERE user_id = ? AND read_seq < ? RETURNING receipts_private", seq, userId, seq)
      .toArray()[0];
    return row ? { receiptsPrivate: row.receipts_private === 1 } : null;
  }

  /** When the member was last seen online (their presence went offline). */
  setLastSeen(userId: string, ts: number): void {
    this.sql.exec("UPDATE members SET last_seen = ? WHERE user_id = ?", ts, userId);
  }

  isBanned(userId: string): boolean {
    return this.sql.exec("SELECT 1 FROM bans WHERE user_id = ?", userId).toArray().length > 0;
  }

  /** The ban on `userId`, if any: who placed it, and with what rank (policy.ts decides what that allows). */
  banOf(userId: string): { bannedBy: string; rank: BanRank } | null {
    const row = this.sql.exec<{ banned_by: string; banned_by_rank: string }>("SELECT banned_by, banned_by_rank FROM bans WHERE user_id = ?", userId).toArray()[0];
    return row ? { bannedBy: row.banned_by, rank: row.banned_by_rank as BanRank } : null;
  }

  /** Places the ban, or replaces the one there (the caller decides when: moderation.ts). */
  ban(userId: string, by: string, rank: BanRank, ts: number): void {
    this.sql.exec(
      `INSERT INTO bans (user_id, banned_by, banned_by_rank, banned_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET banned_by = excluded.banned_by, banned_by_rank = excluded.banned_by_rank, banned_ts = excluded.banned_ts`,
      userId,
      by,
      rank,
      ts,
    );
  }

  unban(userId: string): void {
    this.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
  }

  /** An erasure: the user's own ban goes, and bans they placed name `pseudonym`. */
  forgetBans(userId: string, pseudonym: string): void {
    this.sql.exec("DELETE FROM bans WHERE user_id = ?", userId);
    this.sql.exec("UPDATE bans SET banned_by = ? WHERE banned_by = ?", pseudonym, userId);
  }

  /** Members in the order they joined. */
  list(): MemberRow[] {
    return this.sql.exec<MemberRow>("SELECT * FROM members ORDER BY join_seq").toArray();
  }
}
