/** The option and answer types of ChatClient's methods (re-exported by the SDK's index). */
import type { TokenSource } from "./transport";
import type { WebSocketConstructor } from "./reconnecting-socket";

export interface ChatClientOptions {
  /** Origin of the chat Worker, e.g. "https://chat.example.com". */
  baseUrl: string;
  /** A bearer JWT, or a function returning a fresh one (called per request). */
  token: TokenSource;
  /** A WebSocket class; optional where a global one exists (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
}

export interface SendOptions {
  /**
   * Idempotency key: a send repeated with the same clientId stores nothing new
   * and returns the original message. Generated when omitted.
   */
  clientId?: string;
  /** Cancels the send (and its retries); the promise rejects with `cancelled`. */
  signal?: AbortSignal;
  /** Media ids from `uploadMedia` (this room, this user, not yet attached); `content` may then be empty. */
  attachments?: string[];
}

export interface HistoryOptions {
  /** Page size, default 50, at most 200. */
  limit?: number;
  /** Only messages strictly older than this. */
  beforeTs?: Date | string;
  /** Time range [from, to). */
  from?: Date | string;
  to?: Date | string;
  /** `nextCursor` of a previous page: continues to older messages. */
  cursor?: string | null;
  /** Only messages with seq greater than this, oldest first (for catching up). */
  afterSeq?: number;
}

export interface DirectRoom {
  roomId: string;
  kind: "direct";
  members: string[];
}

export const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);

/** The query string of a history read, with its leading "?" (empty without options). */
export function historyQuery(options: HistoryOptions): string {
  const query = new URLSearchParams();
  if (options.limit !== undefined) query.set("limit", String(options.limit));
  if (options.beforeTs !== undefined) query.set("beforeTs", iso(options.beforeTs));
  if (options.from !== undefined) query.set("from", iso(options.from));
  if (options.to !== undefined) query.set("to", iso(options.to));
  if (options.cursor) query.set("cursor", options.cursor);
  if (options.afterSeq !== undefined) query.set("afterSeq", String(options.afterSeq));
  const qs = query.toString();
  return qs ? `?${qs}` : "";
}
