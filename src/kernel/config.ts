/**
 * The deployment's configuration: every `[vars]` entry and secret the code
 * reads, parsed once per env object with zod into one typed value, so no
 * module reads a raw variable or casts `env` to get at one.
 *
 * Numeric limits keep the rule they always had: a positive safe integer wins,
 * anything else (unset, empty, a typo) falls back to the default, so a bad
 * value never takes a deployment down. `docs/operations.md` lists them all.
 */
import { z } from "zod";

export const MiB = 1024 * 1024;

export const DEFAULT_ALLOWED_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/heic",
  "image/heif",
  "video/mp4",
  "video/webm",
  "video/quicktime",
  "audio/mpeg",
  "audio/ogg",
  "audio/opus",
  "audio/wav",
  "audio/aac",
  "audio/x-m4a",
  "audio/mp4",
  "audio/webm",
  "application/pdf",
  "application/zip",
  "text/plain",
];

/** Where push subscriptions may point (PUSH_ENDPOINT_HOSTS): the browsers' push services. `*.` matches any subdomain. */
export const DEFAULT_PUSH_ENDPOINT_HOSTS = [
  "fcm.googleapis.com",
  "updates.push.services.mozilla.com",
  "*.notify.windows.com",
  "web.push.apple.com",
  "*.push.apple.com",
];

/** A positive safe integer, or `fallback` for anything else. */
export function intVar(value: unknown, fallback: number): number {
  const n = typeof value === "string" || typeof value === "number" ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

const int = (fallback: number) => z.unknown().optional().transform((v) => intVar(v, fallback));
/** A string var where empty means unset. */
const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === "string" && v !== "" ? v : undefined));
const flag = (on: string) => z.unknown().optional().transform((v) => v === on);
const list = z.unknown().optional().transform((v) =>
  typeof v === "string"
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [],
);

const Vars = z.object({
  AUTH_SECRET: text,
  AUTH_JWKS_URL: text,
  AUTH_JWT_ALG: text,
  AUTH_ISSUER: text,
  AUTH_AUDIENCE: text,
  AUTH_ADMIN_CLAIM: text,
  DEV_AUTH: flag("true"),
  DEV_AUTH_ADMIN: flag("true"),
  ALLOWED_ORIGINS: list,
  UPGRADE_RATE_LIMIT: text,
  LOG_LEVEL: text,

  MAX_MESSAGE_BYTES: int(16 * 1024),
  REPLAY_CAP: int(5_000),
  REPLAY_MAX_BYTES: int(4 * MiB),
  SLOW_CONSUMER_LAG: int(2_000),
  HEARTBEAT_TIMEOUT_MS: int(75_000),
  ROOM_UNDO_WINDOW_MS: int(10 * 60_000),
  HOLD_RECHECK_MS: int(60 * 60_000),
  LARGE_ROOM_MEMBERS: int(100),
  PRESENCE_GRACE_MS: int(15_000),
  SEND_RATE_PER_SECOND: int(5),
  SEND_BURST: int(20),
  MAX_ROOM_MEMBERS: int(10_000),
  FRAMES_PER_SECOND: int(50),
  FRAME_BURST: int(200),
  MESSAGE_RETENTION_DAYS: z.unknown().optional().transform((v) => (v === undefined || v === "" ? null : intVar(v, 0) || null)),

  USER_SEND_PER_MINUTE: int(100),
  USER_MUTATIONS_PER_MINUTE: int(120),
  USER_READS_PER_MINUTE: int(600),
  ROOM_MUTATIONS_PER_MINUTE: int(120),
  ROOM_READS_PER_MINUTE: int(600),
  ROOM_SIGNALS_PER_MINUTE: int(600),
  OUTBOX_MAX_PENDING: int(5_000),
  HISTORY_PAGE_MAX_BYTES: int(MiB),
  AUDIT_RETENTION_DAYS: z.unknown().optional().transform((v) => {
    const days = Number(v);
    return Number.isFinite(days) && days > 0 ? days : 365;
  }),
  MAX_CONNECTIONS_PER_USER: int(10),
  // Days may be fractional (tests keep a log for minutes).
  SYNC_RETENTION_DAYS: z.unknown().optional().transform((v) => {
    const days = Number(v);
    return Number.isFinite(days) && days > 0 ? days : 180;
  }),

  MEDIA_MAX_BYTES: int(25 * MiB),
  MEDIA_PART_BYTES: int(5 * MiB),
  MEDIA_QUOTA_BYTES_PER_HOUR: int(200 * MiB),
  MEDIA_ORPHAN_TTL_MS: int(24 * 60 * 60 * 1000),
  MEDIA_ALLOWED_TYPES: z.unknown().optional().transform((v) =>
    typeof v === "string" && v.trim() !== ""
      ? v
          .split(",")
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean)
      : DEFAULT_ALLOWED_TYPES,
  ),
  MEDIA_URL_TTL_S: int(3600),
  MEDIA_URL_SECRET: text,

  VAPID_PUBLIC_KEY: text,
  VAPID_PRIVATE_KEY: text,
  VAPID_SUBJECT: text,
  PUSH_ENDPOINT_HOSTS: z.unknown().optional().transform((v) =>
    typeof v === "string" && v.trim() !== ""
      ? v
          .split(",")
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean)
      : DEFAULT_PUSH_ENDPOINT_HOSTS,
  ),
  PUSH_SUBSCRIPTIONS_PER_USER: int(10),
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** HS256 keys shorter than this are guessable offline from one token (RFC 7518 asks for at least the hash size). */
export const MIN_SECRET_BYTES = 32;

/**
 * Settings that make authentication unsafe, each naming the setting. A
 * deployment with any of them refuses every authenticated request (500
 * misconfigured) rather than accept tokens it cannot fully check.
 */
function authProblems(v: z.output<typeof Vars>): string[] {
  const problems: string[] = [];
  // Without both, a token the same identity provider issued to another application is accepted here.
  if (v.AUTH_JWKS_URL && !v.AUTH_ISSUER) problems.push("AUTH_ISSUER is required with AUTH_JWKS_URL");
  if (v.AUTH_JWKS_URL && !v.AUTH_AUDIENCE) problems.push("AUTH_AUDIENCE is required with AUTH_JWKS_URL");
  if (v.AUTH_SECRET && new TextEncoder().encode(v.AUTH_SECRET).length < MIN_SECRET_BYTES) {
    problems.push(`AUTH_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return problems;
}

const Config = Vars.transform((v) => ({
  auth: {
    secret: v.AUTH_SECRET,
    jwksUrl: v.AUTH_JWKS_URL,
    algorithm: v.AUTH_JWT_ALG ?? (v.AUTH_JWKS_URL ? "RS256" : "HS256"),
    issuer: v.AUTH_ISSUER,
    audience: v.AUTH_AUDIENCE,
    /** Claim that marks a deployment admin when it is `true`. */
    adminClaim: v.AUTH_ADMIN_CLAIM ?? "admin",
    devAuth: v.DEV_AUTH,
    /** DEV_AUTH_ADMIN = "true" lets dev tokens carry the admin claim (a second switch, on under `npm start`). */
    devAuthAdmin: v.DEV_AUTH_ADMIN,
  },
  /** Why the configuration is unsafe to serve (each names its setting); empty when it is sound. */
  problems: authProblems(v),
  /** "true" enables POST /api/dev/token and plain-http push endpoints. Never set it in a deployment. */
  devAuth: v.DEV_AUTH,
  /** Browser origins allowed to call the API and open sockets ("*" allows any). */
  allowedOrigins: v.ALLOWED_ORIGINS,
  /** "off" lifts the per-IP upgrade limit (local test servers). */
  upgradeRateLimitOff: v.UPGRADE_RATE_LIMIT === "off",
  logLevel: v.LOG_LEVEL === "warn" || v.LOG_LEVEL === "error" ? v.LOG_LEVEL : ("info" as "info" | "warn" | "error"),
  room: {
    maxMessageBytes: v.MAX_MESSAGE_BYTES,
    /** Resumes further behind than this many events get `resync` instead of a replay. */
    replayCap: v.REPLAY_CAP,
    /**
     * A replay stops before it sends more than this many bytes, and the socket
     * gets `resync` from where it stopped: one `hello` cannot make the room send
     * what hundreds of large edited messages weigh.
     */
    replayMaxBytes: v.REPLAY_MAX_BYTES,
    /** A socket this many events behind its last `progress` is cut off as too slow. */
    lagCap: v.SLOW_CONSUMER_LAG,
    /** A socket silent (no frame, no heartbeat) for this long is presumed dead and closed. */
    heartbeatTimeoutMs: v.HEARTBEAT_TIMEOUT_MS,
    /** How long a deleted room stays restorable before its content is purged. */
    undoWindowMs: v.ROOM_UNDO_WINDOW_MS,
    /** How often content kept by a legal hold is looked at again. */
    holdRecheckMs: v.HOLD_RECHECK_MS,
    /** Above this many members, activity is not fanned out to members' sync logs. */
    largeRoomMembers: v.LARGE_ROOM_MEMBERS,
    /** How long after a user's last socket closes they are announced offline. */
    presenceGraceMs: v.PRESENCE_GRACE_MS,
    /** Sends per user in this room: refill rate and burst (token bucket). */
    sendPerSecond: v.SEND_RATE_PER_SECOND,
    sendBurst: v.SEND_BURST,
    maxMembers: v.MAX_ROOM_MEMBERS,
    /** Frames per socket (any type), checked before parsing: far above any honest client. */
    framesPerSecond: v.FRAMES_PER_SECOND,
    frameBurst: v.FRAME_BURST,
    /** Days rooms keep messages unless a room sets its own (MESSAGE_RETENTION_DAYS); null: forever. */
    defaultRetentionDays: v.MESSAGE_RETENTION_DAYS,
    /** Per user in this room, a minute's worth (bucket size and refill): edits, deletions, moderation, roles, settings, room deletion and restore. */
    mutationsPerMinute: v.ROOM_MUTATIONS_PER_MINUTE,
    /** Per user in this room: history pages, members, presence, receipts, settings reads. */
    readsPerMinute: v.ROOM_READS_PER_MINUTE,
    /** Per user in this room: read marks and typing notices (HTTP and socket), far above their natural rate. */
    signalsPerMinute: v.ROOM_SIGNALS_PER_MINUTE,
    /** Outbox rows waiting for D1 beyond which the mutations that add rows are refused until it drains. */
    outboxMaxPending: v.OUTBOX_MAX_PENDING,
    /** A history page ends early, with its cursor, once its messages reach this many bytes of JSON. */
    historyPageMaxBytes: v.HISTORY_PAGE_MAX_BYTES,
  },
  user: {
    /** Messages per user per minute across all rooms (bucket size and refill per minute). */
    sendPerMinute: v.USER_SEND_PER_MINUTE,
    /** Live WebSockets per user across all rooms and the inbox. */
    maxConnections: v.MAX_CONNECTIONS_PER_USER,
    /** Cross-room mutations per user per minute: room and direct-room creation, joins, leaves, connect tickets, mutes, push subscriptions, privacy settings. */
    mutationsPerMinute: v.USER_MUTATIONS_PER_MINUTE,
    /** Cross-room reads per user per minute: the room list, the sync log, the privacy settings. */
    readsPerMinute: v.USER_READS_PER_MINUTE,
  },
  /** How long each user's sync log is kept (SYNC_RETENTION_DAYS, default 180). */
  syncRetentionMs: v.SYNC_RETENTION_DAYS * DAY_MS,
  /** How long the D1 audit log keeps an entry (AUDIT_RETENTION_DAYS, default 365), trimmed by the daily cron. */
  auditRetentionMs: v.AUDIT_RETENTION_DAYS * DAY_MS,
  media: {
    /** Largest file accepted, in bytes (MEDIA_MAX_BYTES, default 25 MiB). */
    maxBytes: v.MEDIA_MAX_BYTES,
    /** Part size of resumable uploads (MEDIA_PART_BYTES, default 5 MiB; R2 needs at least 5 MiB for all parts but the last). */
    partBytes: v.MEDIA_PART_BYTES,
    /** Bytes one user may upload per rolling hour (MEDIA_QUOTA_BYTES_PER_HOUR, default 200 MiB). */
    quotaBytesPerHour: v.MEDIA_QUOTA_BYTES_PER_HOUR,
    /** An upload not attached to a message within this long is deleted (MEDIA_ORPHAN_TTL_MS, default 24 h). */
    orphanTtlMs: v.MEDIA_ORPHAN_TTL_MS,
    /** Content types accepted, after sniffing (comma separated; `image/*` style wildcards allowed). */
    allowedTypes: v.MEDIA_ALLOWED_TYPES,
    /** Lifetime of a signed download URL (MEDIA_URL_TTL_S, default 3600). */
    urlTtlS: v.MEDIA_URL_TTL_S,
    /** Key for signed media URLs; derived from AUTH_SECRET when unset. */
    urlSecret: v.MEDIA_URL_SECRET,
  },
  push: {
    /** Hosts push subscriptions may point at (PUSH_ENDPOINT_HOSTS, comma separated; default: the browsers' push services). */
    endpointHosts: v.PUSH_ENDPOINT_HOSTS,
    /** Push subscriptions one user may hold (PUSH_SUBSCRIPTIONS_PER_USER, default 10). */
    maxPerUser: v.PUSH_SUBSCRIPTIONS_PER_USER,
  },
  /** Web Push (VAPID): null unless both keys are set. */
  vapid:
    v.VAPID_PUBLIC_KEY && v.VAPID_PRIVATE_KEY
      ? { subject: v.VAPID_SUBJECT ?? "mailto:admin@example.com", publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY }
      : null,
}));

export type Config = z.output<typeof Config>;
export type AuthConfig = Config["auth"];
export type RoomLimits = Config["room"];
export type UserLimitsConfig = Config["user"];
export type MediaConfig = Config["media"];
export type Vapid = NonNullable<Config["vapid"]>;
export type PushConfig = Config["push"];

// Every key is optional on input (z.unknown().optional()): zod 4 refuses an absent key
// whose schema is a bare z.unknown() piped into a transform.
// One env object per isolate (and per test's miniflare bindings): parse it once.
const parsed = new WeakMap<object, Config>();

/** The configuration of `env`: parsed on first use, then cached for that env object. */
export function configOf(env: object): Config {
  let config = parsed.get(env);
  if (!config) {
    config = Config.parse(env);
    parsed.set(env, config);
  }
  return config;
}
