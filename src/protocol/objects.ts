/**
 * Cross-object contracts: what one Durable Object, queue or the Worker hands
 * another over RPC or a queue. Plain types, so both sides name the same shape
 * without importing each other.
 */
import type { LastMessage, PushPayload } from "./http";

/** A push queue message: one offline member to notify (rooms enqueue, src/push consumes). */
export interface PushJob {
  userId: string;
  payload: PushPayload;
  /** Retries go to this endpoint only. */
  endpoint?: string;
  attempt?: number;
}

/** A user's privacy settings, kept in D1 and copied into each room they join. */
export interface PrivacySettings {
  presenceHidden: boolean;
  receiptsPrivate: boolean;
}

/** One member's view of a room, computed by the room and sent to their inbox and room list. */
export interface RoomSummaryForUser {
  roomId: string;
  /** The room's latest seq when this was computed: newer summaries have higher (or equal) heads. */
  seq: number;
  readSeq: number;
  unreadCount: number;
  lastMessage: LastMessage | null;
  lastActivityTs: string;
}

/** One socket's lease: which object holds the socket, so a lost release can be noticed. */
export interface ConnectionLease {
  /** The socket's id in its object (partyserver's connection id; the inbox's own id). */
  id: string;
  userId: string;
  kind: "room" | "inbox";
  /** The room id, for room sockets. */
  target: string;
}

export type ConnectionDecision = { ok: true; open: number } | { ok: false; open: number; limit: number };

/** A token bucket's answer (room and UserLimits buckets, returned over RPC). */
export interface Verdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until one token is available again (0 when allowed). */
  retryAfter: number;
  /** Seconds until the bucket is full again. */
  reset: number;
}

/** Sends one call takes at most (UserLimits.takeSends answers up to this many). */
export const MAX_SENDS_PER_CALL = 1_000;
