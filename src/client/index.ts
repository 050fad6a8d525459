/**
 * The chat SDK, for browsers and Node 20+. It speaks the same protocol module
 * as the server, so the wire format is written once.
 *
 *   const chat = new ChatClient({ baseUrl, token, WebSocket }); // WebSocket: `ws` in Node
 *   await chat.createRoom("general");
 *   const sub = await chat.subscribe("general", { onMessage: (m) => console.log(m.content) });
 *   await chat.sendMessage("general", "Hello!");
 */
import type {
  ActiveUsers,
  Attachment,
  MediaUrl,
  HistoryPage,
  Message,
  Position,
  RoomSummary,
  SyncPage,
  RoomSettings,
} from "../protocol";
import { backoffDelay, sleep } from "./backoff";
import { ChatError } from "./errors";
import { type MediaData, type UploadOptions, uploadMedia } from "./media";
import { type SubscribeHandlers, type SubscribeOptions, Subscription, type WebSocketConstructor } from "./subscription";
import { type TokenSource, type Transport, createTransport } from "./transport";
import { type InboxHandlers, InboxSubscription } from "./inbox";

export { ChatError } from "./errors";
export type { ChatErrorCode } from "./errors";
export { Subscription } from "./subscription";
export { MediaUploadError, DEFAULT_MULTIPART_THRESHOLD } from "./media";
export type { MediaData, UploadOptions } from "./media";
export { InboxSubscription } from "./inbox";
export type { InboxHandlers, InboxNoticeEvent, InboxRoom, InboxKind } from "./inbox";
export type { ConnectionState, SubscribeHandlers, SubscribeOptions, WebSocketConstructor, WebSocketLike } from "./subscription";
export type { Attachment, Message, Position, RoomEvent, RoomSettings, RoomSummary, HistoryPage, ErrorCode, SyncPage, SyncEvent } from "../protocol";

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

type SendBody = { content: string; clientId: string; attachments?: string[] };

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);
const roomPath = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}`;

export class ChatClient {
  readonly #transport: Transport;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #subscriptions = new Set<Subscription>();
  readonly #inboxes = new Set<InboxSubscription>();
  /** Sends of one room go out one after another, so a retried send never overtakes a later one. */
  readonly #sendQueues = new Map<string, Promise<unknown>>();

  constructor(options: ChatClientOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Upload progress needs XMLHttpRequest in browsers; an app's own fetch is respected as is.
    this.#transport = createTransport(options.baseUrl, options.token, fetchImpl, options.fetch === undefined);
    this.#WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  /** Creates a room; the caller becomes its owner and first member. Fails with `room_exists`. */
  async createRoom(roomId: string): Promise<{ roomId: string; kind: "group"; role: "owner" }> {
    return this.#transport.request("POST", "/api/rooms", { roomId });
  }

  /** Joins a room. True if joined now, false if already a member. */
  async joinRoom(roomId: string): Promise<boolean> {
    const result = await this.#transport.request<{ joined: boolean }>("POST", `${roomPath(roomId)}/join`);
    return result.joined;
  }

  /** Leaves a room. True if left now, false if not a member. */
  async leaveRoom(roomId: string): Promise<boolean> {
    const result = await this.#transport.request<{ left: boolean }>("POST", `${roomPath(roomId)}/leave`);
    return result.left;
  }

  /**
   * Sends a message; resolves once it is stored, with its id, seq and server ts.
   * Network failures and server errors are retried with the same clientId, so a
   * retry never stores a second copy; permanent errors reject with ChatError.
   */
  sendMessage(roomId: string, content: string, options: SendOptions = {}): Promise<Message> {
    const body: SendBody = { content, clientId: options.clientId ?? crypto.randomUUID() };
    if (options.attachments?.length) body.attachments = options.attachments;
    const previous = this.#sendQueues.get(roomId) ?? Promise.resolve();
    const result = previous.then(
      () => this.#deliver(roomId, body, options.signal),
      () => this.#deliver(roomId, body, options.signal),
    );
    const settled = result.catch(() => undefined);
    this.#sendQueues.set(roomId, settled);
    void settled.then(() => {
      if (this.#sendQueues.get(roomId) === settled) this.#sendQueues.delete(roomId);
    });
    return result;
  }

  /**
   * The outbox of one send: retried with the same clientId through network
   * failures, server errors, restarts and rate limits, until it is stored, a
   * permanent error refuses it, or the app aborts it.
   */
  async #deliver(roomId: string, body: SendBody, signal: AbortSignal | undefined): Promise<Message> {
    const options = { signal };
    if (signal?.aborted) throw new ChatError("cancelled", "send was cancelled");
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#transport.request<Message>("POST", `${roomPath(roomId)}/messages`, body, options.signal);
      } catch (error) {
        if (!(error instanceof ChatError) || error.permanent || options.signal?.aborted) throw error;
        const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : backoffDelay(attempt);
        try {
          await sleep(wait, options.signal);
        } catch {
          throw new ChatError("cancelled", "send was cancelled");
        }
      }
    }
  }

  /**
   * Uploads a file to a room (members only) and answers what it is:
   * `{ mediaId, filename, contentType, size, width?, height? }`. Attach it with
   * `sendMessage(roomId, content, { attachments: [mediaId] })` within a day, or it is deleted.
   * Files above `multipartThreshold` (8 MiB) go in parts and resume after failures.
   */
  uploadMedia(roomId: string, data: MediaData, options: UploadOptions = {}): Promise<Attachment> {
    return uploadMedia(this.#transport, roomId, data, options);
  }

  /**
   * A URL for a file that works without headers, for an <img>, <video> or
   * download link. It is signed for this user and expires (default an hour).
   */
  async mediaUrl(roomId: string, mediaId: string): Promise<string> {
    const { url } = await this.#transport.request<MediaUrl>("GET", `${roomPath(roomId)}/media/${encodeURIComponent(mediaId)}/url`);
    return `${this.#transport.baseUrl}${url}`;
  }

  /** A page of history in chronological order; `nextCursor` fetches the next older page. */
  async getHistory(roomId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.beforeTs !== undefined) query.set("beforeTs", iso(options.beforeTs));
    if (options.from !== undefined) query.set("from", iso(options.from));
    if (options.to !== undefined) query.set("to", iso(options.to));
    if (options.cursor) query.set("cursor", options.cursor);
    if (options.afterSeq !== undefined) query.set("afterSeq", String(options.afterSeq));
    const qs = query.toString();
    return this.#transport.request("GET", `${roomPath(roomId)}/messages${qs ? `?${qs}` : ""}`);
  }

  /** Edits your own message; resolves with its new state (same id and seq, `editedTs`). */
  async editMessage(roomId: string, messageId: string, content: string): Promise<Message> {
    return this.#transport.request("PATCH", `${roomPath(roomId)}/messages/${encodeURIComponent(messageId)}`, { content });
  }

  /** Deletes a message for everyone (your own; owners and admins: any). Resolves with the tombstone. */
  async deleteMessage(roomId: string, messageId: string): Promise<Message> {
    return this.#transport.request("DELETE", `${roomPath(roomId)}/messages/${encodeURIComponent(messageId)}`);
  }

  /**
   * Deletes the whole conversation for every member, on every device. It can be
   * restored with `restoreRoom` until `restorableUntil`; then it is purged.
   */
  async deleteRoom(roomId: string): Promise<{ roomId: string; deleted: true; restorableUntil: string }> {
    return this.#transport.request("DELETE", roomPath(roomId));
  }

  /** The room's settings: `{ roomId, retentionDays, effectiveRetentionDays }` (members). */
  async roomSettings(roomId: string): Promise<RoomSettings> {
    return this.#transport.request("GET", `${roomPath(roomId)}/settings`);
  }

  /**
   * Keep messages this many days (owners and admins); older ones become
   * tombstones with `expired: true`. null follows the deployment's default.
   */
  async setRoomRetention(roomId: string, retentionDays: number | null): Promise<RoomSettings> {
    return this.#transport.request("PATCH", `${roomPath(roomId)}/settings`, { retentionDays });
  }

  /** Undoes `deleteRoom` inside the undo window (the deleter, owners and admins). */
  async restoreRoom(roomId: string): Promise<{ roomId: string; restored: true }> {
    return this.#transport.request("POST", `${roomPath(roomId)}/restore`);
  }

  /**
   * What changed in your room list since `cursor` (from the beginning without
   * one): joins, leaves, deletions, restores and activity, oldest first, at
   * most 500 per call. Call again with the returned cursor while `hasMore`.
   * A cursor older than the retention period rejects with `resync_required`:
   * rebuild the list from `error.details.rooms` (or `listRooms()`) and continue
   * from `error.details.cursor`.
   */
  async sync(cursor?: string | null): Promise<SyncPage> {
    return this.#transport.request<SyncPage>("GET", `/api/sync${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
  }

  /** Each member's presence: `{ userId, online, devices, lastSeen }`. */
  async presence(roomId: string): Promise<Array<{ userId: string; online: boolean; devices: number; lastSeen: string | null }>> {
    const result = await this.#transport.request<{ presence: Array<{ userId: string; online: boolean; devices: number; lastSeen: string | null }> }>(
      "GET",
      `${roomPath(roomId)}/presence`,
    );
    return result.presence;
  }

  /** "nobody": others always see you offline, with no last-seen time. Applies to every room at once. */
  async setPresenceVisibility(visibility: "everyone" | "nobody"): Promise<void> {
    await this.#transport.request("PATCH", "/api/me/settings", { presenceVisibility: visibility });
  }

  /** "nobody": your read position is shared with your own devices only. */
  async setReadReceiptVisibility(visibility: "everyone" | "nobody"): Promise<void> {
    await this.#transport.request("PATCH", "/api/me/settings", { readReceiptVisibility: visibility });
  }

  /** Tells members you are typing; call it as the user types (it is rate limited and expires after 10 s). */
  async setTyping(roomId: string): Promise<void> {
    if (this.#liveSubscription(roomId)?.sendFrame({ type: "typing" })) return;
    await this.#transport.request("POST", `${roomPath(roomId)}/typing`);
  }

  /** Marks the room read up to and including `seq`. Only moves forward. */
  async markRead(roomId: string, seq: number): Promise<void> {
    if (this.#liveSubscription(roomId)?.sendFrame({ type: "read", seq })) return;
    await this.#transport.request("POST", `${roomPath(roomId)}/read`, { seq });
  }

  /** Every member's read position (private ones excluded). */
  async receipts(roomId: string): Promise<Array<{ userId: string; seq: number }>> {
    const result = await this.#transport.request<{ receipts: Array<{ userId: string; seq: number }> }>("GET", `${roomPath(roomId)}/receipts`);
    return result.receipts;
  }

  /** Removes a member (owners; admins for plain members). They may join again. */
  async kick(roomId: string, userId: string): Promise<void> {
    await this.#transport.request("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/kick`);
  }

  /** Removes a member and keeps them out until `unban`. */
  async ban(roomId: string, userId: string): Promise<void> {
    await this.#transport.request("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/ban`);
  }

  async unban(roomId: string, userId: string): Promise<void> {
    await this.#transport.request("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/unban`);
  }

  /** Owners make members admins (who may delete messages and moderate) or plain members. */
  async setRole(roomId: string, userId: string, role: "admin" | "member"): Promise<void> {
    await this.#transport.request("PUT", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/role`, { role });
  }

  #liveSubscription(roomId: string): Subscription | undefined {
    for (const sub of this.#subscriptions) if (sub.roomId === roomId && sub.state === "live") return sub;
    return undefined;
  }

  /** Member ids in join order. */
  async activeUsers(roomId: string): Promise<string[]> {
    const result = await this.#transport.request<ActiveUsers>("GET", `${roomPath(roomId)}/active-users`);
    return result.users;
  }

  /** The caller's rooms, most recent activity first. May lag changes by a few seconds. */
  async listRooms(): Promise<RoomSummary[]> {
    const result = await this.#transport.request<{ rooms: RoomSummary[] }>("GET", "/api/rooms");
    return result.rooms;
  }

  /** The 1:1 room of the caller and `userId`: the same room from both sides; nobody else may join. */
  async openDirect(userId: string): Promise<DirectRoom> {
    return this.#transport.request("POST", `/api/direct/${encodeURIComponent(userId)}`);
  }

  /**
   * Subscribes to a room's live events. Resolves once the subscription is live;
   * from then on it reconnects and resumes by itself until `sub.close()`.
   */
  async subscribe(roomId: string, handlers: SubscribeHandlers = {}, options: SubscribeOptions = {}): Promise<Subscription> {
    if (!this.#WebSocket) {
      throw new ChatError("invalid_request", "no WebSocket implementation: pass one in ChatClientOptions.WebSocket (e.g. the `ws` package)");
    }
    const subscription = new Subscription(roomId, this.#transport, this.#WebSocket, handlers, options);
    this.#subscriptions.add(subscription);
    try {
      await subscription.ready;
    } catch (error) {
      this.#subscriptions.delete(subscription);
      throw error;
    }
    return subscription;
  }

  /**
   * Registers a push subscription (`PushSubscription` or its `toJSON()`): while
   * you have no live device, new messages in your rooms (up to the large-room
   * threshold, unless muted) arrive as Web Push notifications.
   */
  async registerPush(subscription: { endpoint: string; keys?: { p256dh: string; auth: string }; toJSON?: () => unknown }): Promise<void> {
    const body = typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
    await this.#transport.request("POST", "/api/me/push-subscriptions", body);
  }

  async unregisterPush(endpoint: string): Promise<boolean> {
    return (await this.#transport.request<{ removed: boolean }>("DELETE", "/api/me/push-subscriptions", { endpoint })).removed;
  }

  /** The key for PushManager.subscribe({ applicationServerKey }); null if the server has no VAPID keys. */
  async vapidPublicKey(): Promise<string | null> {
    return (await this.#transport.request<{ publicKey: string | null }>("GET", "/api/push/vapid-public-key")).publicKey;
  }

  /** No push notifications from this room, until `until` (or until `unmuteRoom`). */
  async muteRoom(roomId: string, until?: Date | string): Promise<void> {
    await this.#transport.request("PUT", `${roomPath(roomId)}/mute`, until === undefined ? {} : { until: iso(until) });
  }

  async unmuteRoom(roomId: string): Promise<void> {
    await this.#transport.request("DELETE", `${roomPath(roomId)}/mute`);
  }

  /**
   * One socket for all your rooms: activity (with unread counts and the last
   * message), reads on your other devices, joins, leaves, deletions and
   * restores. Resolves once live; reconnects with jittered backoff until
   * `inbox.close()`.
   */
  async subscribeInbox(handlers: InboxHandlers = {}): Promise<InboxSubscription> {
    if (!this.#WebSocket) {
      throw new ChatError("invalid_request", "no WebSocket implementation: pass one in ChatClientOptions.WebSocket (e.g. the `ws` package)");
    }
    const inbox = new InboxSubscription(this.#transport, this.#WebSocket, handlers);
    this.#inboxes.add(inbox);
    try {
      await inbox.ready;
    } catch (error) {
      this.#inboxes.delete(inbox);
      throw error;
    }
    return inbox;
  }

  /** Closes every subscription. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.close();
    this.#subscriptions.clear();
    for (const inbox of this.#inboxes) inbox.close();
    this.#inboxes.clear();
  }
}

export type { Position as SubscriptionPosition };
