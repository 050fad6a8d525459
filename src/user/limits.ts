/**
 * Per-user limits that need one serialisation point per user, whatever room
 * or Worker isolate the request lands on: one small Durable Object per user id.
 *
 * - Upload quota: bytes per rolling hour, counted in one-minute buckets in
 *   SQLite (at most 60 rows live), so a burst at the top of an hour cannot
 *   double the allowance as a fixed window would.
 * - Sends across all rooms: a token bucket (USER_SEND_PER_MINUTE), asked by
 *   the room on every send after the room's own bucket has passed it.
 * - Live WebSockets across all rooms and the inbox (MAX_CONNECTIONS_PER_USER):
 *   leases, one per socket, taken before the upgrade and given back on close.
 * - Cross-room budgets, token buckets asked by the Worker before it acts
 *   (src/http/budgets.ts): `mutation` (USER_MUTATIONS_PER_MINUTE) for room and
 *   direct-room creation, joins, leaves, connect tickets, mutes, push
 *   subscriptions and privacy settings; `read` (USER_READS_PER_MINUTE) for the
 *   room list, the sync log and the privacy settings. These are the user's
 *   actions that no one room serialises (a join reaches a room the user is not
 *   in yet; a room list asks every room); in-room budgets live in each room
 *   (src/room/budgets.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { type UserLimitsConfig, configOf } from "../kernel/config";
import { TokenBuckets } from "../kernel/token-bucket";
import { type Clock, ClockSlot } from "../kernel/clock";
import { type ConnectionDecision, type ConnectionLease, MAX_SENDS_PER_CALL, type Verdict } from "../protocol";

const MINUTE = 60_000;
const WINDOW_MINUTES = 60;
/**
 * A lease younger than this is never presumed dead: its socket may still be
 * between the lease and the 101 (not yet listed by its room).
 */
export const LEASE_GRACE_MS = 10_000;

export type QuotaDecision = { ok: true; used: number } | { ok: false; retryAfter: number; used: number };

export type { UserLimitsConfig };

/** The cross-room budgets besides sends. */
export type UserBudget = "mutation" | "read";

/** What can tell which of the user's sockets it really holds: a room, or the user's inbox. */
export interface SocketHolder {
  liveConnectionIds(userId: string): Promise<string[]> | string[];
}

/**
 * Pure rule: may `bytes` more be charged, given the buckets (minute -> bytes)
 * still inside the window? If not, how many seconds until enough expires.
 */
export function decideQuota(buckets: Array<{ minute: number; bytes: number }>, bytes: number, limit: number, now: number): QuotaDecision {
  const nowMinute = Math.floor(now / MINUTE);
  const live = buckets.filter((b) => b.minute > nowMinute - WINDOW_MINUTES).sort((a, b) => a.minute - b.minute);
  const used = live.reduce((sum, b) => sum + b.bytes, 0);
  if (used + bytes <= limit) return { ok: true, used: used + bytes };
  if (bytes > limit) return { ok: false, retryAfter: WINDOW_MINUTES * 60, used };
  // Walk the oldest buckets until enough has expired.
  let freed = 0;
  for (const bucket of live) {
    freed += bucket.bytes;
    if (used - freed + bytes <= limit) {
      const expiresAt = (bucket.minute + WINDOW_MINUTES) * MINUTE;
      return { ok: false, retryAfter: Math.max(1, Math.ceil((expiresAt - now) / 1000)), used };
    }
  }
  return { ok: false, retryAfter: WINDOW_MINUTES * 60, used };
}

export class UserLimits extends DurableObject<Env> {
  /** Read from the environment; tests lower them on one user's object. */
  readonly config: UserLimitsConfig;
  /**
   * The cross-room send bucket, in memory: the object is evicted only after
   * minutes without a call, longer than the bucket takes to refill, so what
   * eviction forgets is a bucket that was full anyway.
   */
  sendBucket: TokenBuckets;
  /** The cross-room budgets, in memory like the send bucket; tests replace them to lower the limits. */
  budgets: Record<UserBudget, TokenBuckets>;

  /**
   * Where this object reads the time. A test swaps it inside
   * `runInDurableObject` (`obj.clock = new ManualClock()`) and moves that
   * clock instead of sleeping; alarms still fire by the runtime's clock.
   */
  get clock(): Clock {
    return this.#time.source;
  }

  set clock(clock: Clock) {
    this.#time.source = clock;
  }

  readonly #time = new ClockSlot();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // This object's own copy: the parsed configuration is shared by every object of the isolate.
    this.config = { ...configOf(env).user };
    this.sendBucket = TokenBuckets.perMinute(this.config.sendPerMinute);
    this.budgets = { mutation: TokenBuckets.perMinute(this.config.mutationsPerMinute), read: TokenBuckets.perMinute(this.config.readsPerMinute) };
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS upload_bytes (minute INTEGER PRIMARY KEY, bytes INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS connections (id TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, user_id TEXT NOT NULL, since INTEGER NOT NULL);
    `);
  }

  /** Charges `bytes` against the hourly upload quota, or refuses with the seconds to wait. */
  chargeUpload(bytes: number, limit: number): QuotaDecision {
    const now = this.#time.now();
    const sql = this.ctx.storage.sql;
    const nowMinute = Math.floor(now / MINUTE);
    sql.exec("DELETE FROM upload_bytes WHERE minute <= ?", nowMinute - WINDOW_MINUTES);
    const buckets = sql.exec<{ minute: number; bytes: number }>("SELECT minute, bytes FROM upload_bytes").toArray();
    const decision = decideQuota(buckets, bytes, limit, now);
    if (decision.ok) {
      sql.exec(
        "INSERT INTO upload_bytes (minute, bytes) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET bytes = bytes + excluded.bytes",
        nowMinute,
        bytes,
      );
    }
    return decision;
  }

  /** Gives back a charge whose upload was refused before any byte was stored. */
  refundUpload(bytes: number): void {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ minute: number }>("SELECT minute FROM upload_bytes ORDER BY minute DESC LIMIT 1").toArray()[0];
    if (row) sql.exec("UPDATE upload_bytes SET bytes = max(0, bytes - ?) WHERE minute = ?", bytes, row.minute);
  }

  /** Takes one send from the user's cross-room bucket (rooms call this before storing a message). */
  takeSend(): Verdict {
    return this.sendBucket.take("send", this.#time.now());
  }

  /** Takes `n` sends, in order: a room's sends of this user that came while its last call was out. */
  takeSends(n: number): Verdict[] {
    const now = this.#time.now();
    return Array.from({ length: Math.max(0, Math.min(Math.floor(n), MAX_SENDS_PER_CALL)) }, () => this.sendBucket.take("send", now));
  }

  /** Takes one token of a cross-room budget (the Worker, before a mutation or read that no room counts). */
  take(budget: UserBudget): Verdict {
    return this.budgets[budget === "read" ? "read" : "mutation"].take(budget, this.#time.now());
  }

  /**
   * Takes a lease for a new socket, or refuses at the cap. At the cap, leases
   * whose sockets are gone without a release (a room reset, a lost close) are
   * found by asking their rooms and dropped first, so a leak heals itself the
   * moment it would matter, at no cost before.
   */
  async acquireConnection(lease: ConnectionLease): Promise<ConnectionDecision> {
    const limit = this.config.maxConnections;
    if (this.#open() >= limit) await this.#dropDeadLeases(this.#time.now());
    // Counted again after the await: other acquisitions may have run meanwhile.
    const open = this.#open();
    if (open >= limit) return { ok: false, open, limit };
    this.ctx.storage.sql.exec(
      "INSERT INTO connections (id, kind, target, user_id, since) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      lease.id,
      lease.kind,
      lease.target,
      lease.userId,
      this.#time.now(),
    );
    return { ok: true, open: open + 1 };
  }

  /** The socket closed (idempotent). */
  releaseConnection(id: string): void {
    this.ctx.storage.sql.exec("DELETE FROM connections WHERE id = ?", id);
  }

  /** Leases held now (tests and diagnostics). */
  openConnections(): number {
    return this.#open();
  }

  #open(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM connections").one().n;
  }

  async #dropDeadLeases(now: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    const cutoff = now - LEASE_GRACE_MS;
    const holders = sql
      .exec<{ kind: string; target: string; user_id: string }>(
        "SELECT DISTINCT kind, target, user_id FROM connections WHERE since <= ?",
        cutoff,
      )
      .toArray();
    await Promise.all(
      holders.map(async ({ kind, target, user_id }) => {
        let live: Set<string>;
        try {
          live = new Set(await this.holderOf(kind, target, user_id).liveConnectionIds(user_id));
        } catch {
          return; // Unknown: keep the leases (err on the side of the limit) and ask again next time.
        }
        const leased = sql
          .exec<{ id: string }>("SELECT id FROM connections WHERE kind = ? AND target = ? AND since <= ?", kind, target, cutoff)
          .toArray();
        for (const { id } of leased) if (!live.has(id)) sql.exec("DELETE FROM connections WHERE id = ?", id);
      }),
    );
  }

  /** Where a lease's socket lives. */
  holderOf(kind: string, target: string, userId: string): SocketHolder {
    return kind === "inbox" ? this.env.INBOXES.getByName(userId) : this.env.ROOMS.getByName(target);
  }
}
