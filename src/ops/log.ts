/**
 * Structured logs: one JSON line per notable event, which Workers Logs
 * (`[observability]` in wrangler.toml) collects and indexes by field.
 *
 * Every line names the event and, where there is one, a request id (`req`)
 * or a connection id (`conn`) to follow one request or socket. What may be
 * logged is limited by type to ids, codes, counts and durations; and the
 * keys that could carry a secret or user content (tokens, tickets, bodies,
 * message content) are dropped here whatever a caller passes, so a careless
 * call cannot leak one.
 */
import { configOf } from "../kernel/config";

export type LogLevel = "info" | "warn" | "error";

/** Field values: ids, codes, counts, durations, flags. */
export type LogValue = string | number | boolean | null | undefined;

export type LogEvent =
  | "connect"
  | "close"
  | "resume"
  | "error"
  | "frame_failed"
  | "alarm_job_failed"
  | "http_error"
  | "unhandled_error"
  | "deletion"
  | "hold"
  | "purge"
  | "retention_trimmed"
  | "outbox_flush_failed"
  | "inbox_delivery_failed"
  | "inbox_notify_failed"
  | "push_enqueue_failed"
  | "push_skipped"
  | "push_given_up"
  | "push_job_failed"
  | "media_cleanup_failed"
  | "media_purge_failed"
  | "room_summary_failed"
  | "room_stats_failed"
  | "health_check_failed"
  | "user_limits_unavailable"
  | "sync_log_trimmed"
  | "audit_log_trimmed";

/** Keys never written, whatever their value: they could hold a credential or a user's words. */
const FORBIDDEN = /token|ticket|secret|password|authorization|cookie|content|body|text|preview|signature|sig$/i;
/** Error strings are trimmed: they can be long, and are for humans. */
const MAX_STRING = 300;

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };
let minimum: LogLevel = "info";
/** Set by tests that read the logs: wins over LOG_LEVEL until cleared. */
let override: LogLevel | null = null;

export function overrideLogLevel(level: LogLevel | null): void {
  override = level;
}

/**
 * Applies LOG_LEVEL ("info", the default; "warn" or "error" to log less) for
 * this isolate. Called where the runtime hands over env: the Worker's
 * handlers and each Durable Object's constructor.
 */
export function configureLogs(env: object): void {
  minimum = configOf(env).logLevel;
}

export function log(level: LogLevel, event: LogEvent, fields: Record<string, LogValue> = {}): void {
  if (RANK[level] < RANK[override ?? minimum]) return;
  const line: Record<string, LogValue> = { level, event, ts: new Date().toISOString() };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || FORBIDDEN.test(key)) continue;
    line[key] = typeof value === "string" && value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  const text = JSON.stringify(line);
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}

/**
 * An error as a log field: its name and message, never a stack. Quoted parts
 * are blanked, because runtime messages quote their input (a JSON parse error
 * quotes the body it choked on).
 */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'").replace(/`[^`]*`/g, "`…`");
}
