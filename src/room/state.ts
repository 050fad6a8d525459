/**
 * What every feature of a room works on: its id, limits and clock, the
 * owners of its tables, its send bucket, and the two ways a change reaches
 * beyond storage: the feed (live sockets) and the alarm (timed work). Built
 * once per instance by the Room; features receive it and never call back
 * into the Room.
 */
import { type Result, type Role, type RoomEvent, fail, ok } from "../protocol";
import type { RoomLimits } from "../kernel/config";
import type { Clock } from "../kernel/clock";
import { TokenBuckets } from "../kernel/token-bucket";
import { clearTickets, consumeTicket, issueTicket } from "../kernel/tickets";
import { RoomBudgets } from "./budgets";
import { EventLog } from "./event-log";
import { MediaRecords } from "./media";
import { Members } from "./members";
import type { RoomMeta, RoomMetaStore } from "./meta";
import { Outbox } from "./outbox";
import { IndexProjection } from "./projection";
import { PurgeQueue } from "./purge-queue";
import type { Wake } from "./scheduler";

/** How changes reach the room's live sockets (feed.ts). */
export interface RoomFeed {
  /** A new event for every live socket. */
  publish(event: RoomEvent): void;
  /** The user is no longer a member: their sockets close. */
  revoke(userId: string): void;
  /** The room was deleted: every socket closes. */
  closeAll(): void;
}

/** The room's connect tickets (the table's SQL is src/kernel/tickets.ts, shared with the inbox). */
export class RoomTickets {
  constructor(private readonly sql: SqlStorage) {}

  issue(userId: string, now: number, tokenExp: number | null): { ticket: string; expiresTs: number } {
    return issueTicket(this.sql, userId, now, tokenExp);
  }

  consume(ticket: string, now: number): { userId: string; tokenExp: number | null } | null {
    return consumeTicket(this.sql, ticket, now);
  }

  clear(): void {
    clearTickets(this.sql);
  }
}

export class RoomState {
  readonly log: EventLog;
  readonly members: Members;
  readonly outbox: Outbox;
  readonly media: MediaRecords;
  readonly purgeQueue: PurgeQueue;
  readonly tickets: RoomTickets;
  readonly index: IndexProjection;
  /** The per-user send bucket in this room; tests replace it to lower the limits. */
  sendBuckets: TokenBuckets;
  /** Every other per-user budget in this room (budgets.ts); tests replace it to lower the limits. */
  budgets: RoomBudgets;

  constructor(
    sql: SqlStorage,
    readonly roomId: string,
    /** Read from the environment once; tests lower fields of it on one room's instance. */
    readonly limits: RoomLimits,
    readonly clock: Clock,
    /** Built before the state: the feed reads the epoch from it. */
    readonly meta: RoomMetaStore,
    readonly feed: RoomFeed,
    readonly wake: Wake,
  ) {
    this.log = new EventLog(sql, roomId, clock);
    this.members = new Members(sql);
    this.outbox = new Outbox(sql, clock);
    this.media = new MediaRecords(sql);
    this.purgeQueue = new PurgeQueue(sql);
    this.tickets = new RoomTickets(sql);
    this.index = new IndexProjection(roomId, limits, clock, this.outbox, this.meta, this.members, this.log, wake);
    this.sendBuckets = new TokenBuckets({ perSecond: limits.sendPerSecond, burst: limits.sendBurst });
    this.budgets = new RoomBudgets(limits, clock);
  }

  get epoch(): string {
    return this.meta.epoch;
  }

  /** Events up to this seq were trimmed by retention; resumes from before it get `too_far_behind`. */
  get trimmedThrough(): number {
    return this.meta.current?.trimmedThrough ?? 0;
  }

  requireRoom(): Result<RoomMeta> {
    return this.meta.requireRoom();
  }

  /** Fails unless the room exists, is not deleted, and the user is a member. */
  requireMember(userId: string): Result<Role> {
    const room = this.meta.requireRoom();
    if (!room.ok) return room;
    const role = this.members.role(userId);
    if (role === null) return fail("not_member", `you are not a member of ${this.roomId}`);
    return ok(role);
  }

  /** Runs `then` for a member; anyone else gets requireMember's refusal. */
  asMember<T>(userId: string, then: (role: Role) => Result<T>): Result<T> {
    const role = this.requireMember(userId);
    return role.ok ? then(role.value) : role;
  }

  /** Content of a message taken out of reach: queued for destruction by the purge job. */
  queuePurge(item: { messageId: string; sender: string; content: string }, reason: string, ts: number): void {
    if (this.purgeQueue.add(item, reason, ts)) this.wake.at(this.clock.now());
  }
}
