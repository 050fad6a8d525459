/**
 * The room Durable Object: one instance per room, the source of truth for its
 * members and messages. Its chat RPCs, called by the Worker after it has
 * authenticated the user; each delegates to one feature module. Media RPCs
 * are in room-media.ts; construction, sockets and the alarm in room-base.ts.
 *
 * Each RPC passes its budget first (budgets.ts says which lives where): the
 * room's own per-user buckets for reads, signals and in-room mutations, and
 * the outbox's cap for every mutation that adds outbox rows. Cross-room
 * budgets (creation, joins, leaves, tickets) are spent by the Worker in the
 * user's UserLimits before it calls here.
 */
import {
  type Message,
  type PrivacySettings,
  type Result,
  type RoomSummaryForUser,
  type SendMessageBody,
  ok,
} from "../protocol";
import type { MetricsSnapshot } from "../ops/metrics";
import { log } from "../ops/log";
import * as erasure from "./erasure";
import { type RoomBudget, unless } from "./budgets";
import { type HistoryRequest, history } from "./history";
import * as lifecycle from "./lifecycle";
import * as membership from "./membership";
import * as messages from "./messages";
import { type ModerationAction, moderate } from "./moderation";
import type { Actor } from "./policy";
import * as retention from "./retention";
import { RoomMedia } from "./room-media";
import { summarise } from "./summary";
import { recordMembership } from "../user/memberships";

export class Room extends RoomMedia {
  /** A token of `budget` for the user, then `then`; or the refusal. */
  #spend<T>(userId: string, budget: RoomBudget, then: () => Result<T>): Result<T> {
    return unless(this.core.budgets.take(userId, budget), then);
  }

  /** A mutation that adds outbox rows: refused while the outbox is over its cap. */
  #feedsOutbox<T>(then: () => Result<T>): Result<T> {
    return unless(this.core.budgets.outboxFull(this.core.outbox), then);
  }

  /** An in-room mutation: the user's budget here, then the outbox's cap. */
  #mutate<T>(userId: string, then: () => Result<T>): Result<T> {
    return this.#spend(userId, "mutation", () => this.#feedsOutbox(then));
  }

  /** Health checks (src/ops/health.ts): proves a room object can be reached and answers. */
  ping(): "pong" {
    return "pong";
  }

  /** This room's figures since it was created, for GET /api/admin/stats (admins only, checked by the Worker). */
  stats(): MetricsSnapshot & { roomId: string; liveConnections: number } {
    return { roomId: this.core.roomId, liveConnections: this.ctx.getWebSockets().length, ...this.metrics.snapshot() };
  }

  settings(userId: string) {
    return this.#spend(userId, "read", () => retention.settings(this.core, userId));
  }

  setRetention(actor: Actor, retentionDays: number | null) {
    return this.#mutate(actor.userId, () => retention.setRetention(this.core, actor, retentionDays));
  }

  create(userId: string, privacy?: PrivacySettings) {
    return membership.recorded(this.#feedsOutbox(() => membership.create(this.core, userId, privacy)), [userId], this.#recordMember);
  }

  openDirect(userId: string, otherId: string, privacy?: Record<string, PrivacySettings>) {
    return membership.recorded(this.#feedsOutbox(() => membership.openDirect(this.core, userId, otherId, privacy)), [userId, otherId], this.#recordMember);
  }

  join(userId: string, privacy?: PrivacySettings) {
    return membership.recorded(this.#feedsOutbox(() => membership.join(this.core, userId, privacy)), [userId], this.#recordMember);
  }

  /** Writes this room into the user's own record of rooms (what their erasure reaches). */
  readonly #recordMember = (userId: string) => recordMembership(this.env, userId, this.core.roomId);

  leave(userId: string) {
    return this.#feedsOutbox(() => membership.leave(this.core, userId));
  }

  presenceList(userId: string) {
    return this.#spend(userId, "read", () => this.core.asMember(userId, () => ok({ roomId: this.core.roomId, presence: this.presence.list(userId) })));
  }

  receiptList(userId: string) {
    return this.#spend(userId, "read", () => this.core.asMember(userId, () => ok({ roomId: this.core.roomId, receipts: this.receipts.list(userId) })));
  }

  markRead(userId: string, seq: number, privacy?: PrivacySettings): Result<{ roomId: string; seq: number }> {
    const refused = this.core.budgets.take(userId, "signal");
    if (refused) return { ok: false, error: refused };
    this.applyPrivacy(userId, privacy);
    const error = this.receipts.mark(userId, seq);
    if (error) return { ok: false, error };
    return ok({ roomId: this.core.roomId, seq: this.receipts.list(userId).find((r) => r.userId === userId)?.seq ?? 0 });
  }

  /**
   * What the user's room list shows about this room (unread count, last
   * message, last activity), or null if they are not a member (the D1 index
   * lags: a room it still lists may have been left). Deleted rooms answer null.
   */
  summaryFor(userId: string): RoomSummaryForUser | null {
    if (!this.core.requireMember(userId).ok) return null;
    return summarise(this.core.roomId, this.core.log, this.core.members, this.receipts, userId);
  }

  typing(userId: string): Result<{ roomId: string }> {
    const error = this.core.budgets.take(userId, "signal") ?? this.parts.typing.notice(userId);
    return error ? { ok: false, error } : ok({ roomId: this.core.roomId });
  }

  /** The user changed a privacy setting: applies to this room at once. */
  applyPrivacy(userId: string, privacy?: PrivacySettings): void {
    if (privacy && this.core.members.has(userId)) this.core.members.setPrivacy(userId, privacy);
  }

  async sendMessage(userId: string, body: SendMessageBody): Promise<Result<Message>> {
    const started = this.time.now();
    const result = await this.parts.sends.send(userId, body);
    if (!result.ok) this.parts.sends.answered(result.error.code, started, "http");
    else if (!result.value.duplicate) this.parts.sends.answered(null, started, "http");
    return result.ok ? ok(result.value.message) : result;
  }

  /** The user's open sockets here, by id: how UserLimits tells a lost lease from a live one. */
  liveConnectionIds(userId: string): string[] {
    return this.parts.gate.liveConnectionIds(userId);
  }

  history(userId: string, req: HistoryRequest) {
    return this.#spend(userId, "read", () => history(this.core, userId, req));
  }

  editMessage(actor: Actor, messageId: string, content: string) {
    return this.#mutate(actor.userId, () => messages.editMessage(this.core, actor, messageId, content));
  }

  deleteMessage(actor: Actor, messageId: string): Result<Message> {
    const result = this.#mutate(actor.userId, () => messages.deleteMessage(this.core, actor, messageId));
    if (!result.ok) return result;
    if (result.value.newly) {
      this.metrics.count("deletions", "message");
      log("info", "deletion", { room: this.core.roomId, kind: "message", messageId, by: actor.userId, admin: actor.admin === true });
    }
    return ok(result.value.message);
  }

  deleteRoom(actor: Actor) {
    const result = this.#mutate(actor.userId, () => lifecycle.deleteRoom(this.core, actor));
    if (result.ok) {
      this.metrics.count("deletions", "room");
      log("info", "deletion", { room: this.core.roomId, kind: "room", by: actor.userId, admin: actor.admin === true });
    }
    return result;
  }

  restoreRoom(actor: Actor) {
    return this.#mutate(actor.userId, () => lifecycle.restoreRoom(this.core, actor));
  }

  moderate(actor: Actor, userId: string, action: ModerationAction) {
    return this.#mutate(actor.userId, () => moderate(this.core, actor, userId, action));
  }

  setRole(actor: Actor, userId: string, role: "admin" | "member") {
    return this.#mutate(actor.userId, () => membership.setRole(this.core, actor, userId, role));
  }

  /** A user hold was released: look at held content again now rather than on the hourly recheck. */
  recheckHolds(): void {
    this.parts.scheduler.at(this.time.now());
  }

  /** Admin only (checked by the Worker); one bounded step of the user's erasure (src/user/erasure.ts). */
  eraseUser(adminId: string, userId: string, options?: erasure.ErasureOptions) {
    const result = erasure.eraseUser(this.core, adminId, userId, options);
    if (result.done) this.presence.forget(userId);
    return result;
  }

  /** Admin only (checked by the Worker). */
  setHold(adminId: string, held: boolean) {
    const result = lifecycle.setHold(this.core, held);
    if (result.ok) log("info", "hold", { room: this.core.roomId, held, by: adminId });
    return result;
  }

  activeUsers(userId: string) {
    return this.#spend(userId, "read", () =>
      this.core.asMember(userId, () => ok({ roomId: this.core.roomId, users: this.core.members.list().map((m) => m.user_id) })),
    );
  }

  members(userId: string) {
    return this.#spend(userId, "read", () => this.core.asMember(userId, () => ok({ roomId: this.core.roomId, members: membership.memberList(this.core) })));
  }

  /** `tokenExp`: when the caller's token expires (ms); the socket will not outlive it. */
  connectTicket(userId: string, tokenExp: number | null = null, privacy?: PrivacySettings) {
    return this.parts.gate.connectTicket(userId, tokenExp, privacy);
  }
}
