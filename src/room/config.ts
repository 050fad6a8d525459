/** Limits a deployment can change through `[vars]`. */
export interface RoomLimits {
  maxMessageBytes: number;
  /** Resumes further behind than this many events get `resync` instead of a replay. */
  replayCap: number;
  /** A socket this many events behind its last `progress` is cut off as too slow. */
  lagCap: number;
  /** A socket silent (no frame, no heartbeat) for this long is presumed dead and closed. */
  heartbeatTimeoutMs: number;
  /** How long a deleted room stays restorable before its content is purged. */
  undoWindowMs: number;
  /** How often content kept by a legal hold is looked at again. */
  holdRecheckMs: number;
  /** Above this many members, activity is not fanned out to members' sync logs. */
  largeRoomMembers: number;
  /** How long after a user's last socket closes they are announced offline. */
  presenceGraceMs: number;
  /** Sends per user in this room: refill rate and burst (token bucket). */
  sendPerSecond: number;
  sendBurst: number;
  maxMembers: number;
  /** Frames per socket (any type), checked before parsing: far above any honest client. */
  framesPerSecond: number;
  frameBurst: number;
  /** Days rooms keep messages unless a room sets its own (MESSAGE_RETENTION_DAYS); null: forever. */
  defaultRetentionDays: number | null;
}

export function intVar(value: unknown, fallback: number): number {
  const n = typeof value === "string" || typeof value === "number" ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export function roomLimits(env: Partial<Record<string, unknown>>): RoomLimits {
  return {
    maxMessageBytes: intVar(env.MAX_MESSAGE_BYTES, 16 * 1024),
    replayCap: intVar(env.REPLAY_CAP, 5_000),
    lagCap: intVar(env.SLOW_CONSUMER_LAG, 2_000),
    heartbeatTimeoutMs: intVar(env.HEARTBEAT_TIMEOUT_MS, 75_000),
    undoWindowMs: intVar(env.ROOM_UNDO_WINDOW_MS, 10 * 60_000),
    holdRecheckMs: intVar(env.HOLD_RECHECK_MS, 60 * 60_000),
    largeRoomMembers: intVar(env.LARGE_ROOM_MEMBERS, 100),
    presenceGraceMs: intVar(env.PRESENCE_GRACE_MS, 15_000),
    sendPerSecond: intVar(env.SEND_RATE_PER_SECOND, 5),
    sendBurst: intVar(env.SEND_BURST, 20),
    maxMembers: intVar(env.MAX_ROOM_MEMBERS, 10_000),
    framesPerSecond: intVar(env.FRAMES_PER_SECOND, 50),
    frameBurst: intVar(env.FRAME_BURST, 200),
    defaultRetentionDays: env.MESSAGE_RETENTION_DAYS === undefined || env.MESSAGE_RETENTION_DAYS === "" ? null : intVar(env.MESSAGE_RETENTION_DAYS, 0) || null,
  };
}
