/**
 * Secrets and optional vars, which `wrangler types` cannot see in wrangler.toml.
 * Code never reads them from here: src/kernel/config.ts parses them once.
 */
declare namespace Cloudflare {
  interface Env {
    /** HS256 secret for bearer tokens (a wrangler secret). */
    AUTH_SECRET?: string;
    /** JWKS URL for bearer tokens signed by an identity provider. */
    AUTH_JWKS_URL?: string;
    AUTH_JWT_ALG?: string;
    AUTH_ISSUER?: string;
    AUTH_AUDIENCE?: string;
    AUTH_ADMIN_CLAIM?: string;
    /** "true" enables POST /api/dev/token. Never set it in a deployment. */
    DEV_AUTH?: string;
    REPLAY_CAP?: string;
    SLOW_CONSUMER_LAG?: string;
    HEARTBEAT_TIMEOUT_MS?: string;
    ROOM_UNDO_WINDOW_MS?: string;
    HOLD_RECHECK_MS?: string;
    LARGE_ROOM_MEMBERS?: string;
    PRESENCE_GRACE_MS?: string;
    SEND_RATE_PER_SECOND?: string;
    SEND_BURST?: string;
    MAX_ROOM_MEMBERS?: string;
    /** Messages per user per minute across all rooms (UserLimits). */
    USER_SEND_PER_MINUTE?: string;
    /** Live WebSockets per user across all rooms and the inbox (UserLimits). */
    MAX_CONNECTIONS_PER_USER?: string;
    /** "off" lifts the per-IP upgrade limit (local test servers). */
    UPGRADE_RATE_LIMIT?: string;
    FRAMES_PER_SECOND?: string;
    FRAME_BURST?: string;
    SYNC_RETENTION_DAYS?: string;
    /** Days rooms keep messages unless a room sets its own retention; unset keeps them forever. */
    MESSAGE_RETENTION_DAYS?: string;
    /** "info" (default), "warn" or "error": the least severe structured log line written. */
    LOG_LEVEL?: string;
    /** Media limits (parsed in src/kernel/config.ts). */
    MEDIA_MAX_BYTES?: string;
    MEDIA_PART_BYTES?: string;
    MEDIA_QUOTA_BYTES_PER_HOUR?: string;
    MEDIA_ORPHAN_TTL_MS?: string;
    MEDIA_ALLOWED_TYPES?: string;
    MEDIA_URL_TTL_S?: string;
    /** Key for signed media URLs; derived from AUTH_SECRET when unset. */
    MEDIA_URL_SECRET?: string;
    /** Web Push (VAPID) keys: base64url raw P-256 public key, base64url private scalar; and a mailto: or https: subject. */
    VAPID_PUBLIC_KEY?: string;
    VAPID_PRIVATE_KEY?: string;
    VAPID_SUBJECT?: string;
  }
}
