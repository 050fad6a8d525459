/**
 * The chat SDK, for browsers and Node 20+. It speaks the same protocol module
 * as the server, so the wire format is written once.
 *
 *   const chat = new ChatClient({ baseUrl, token, WebSocket }); // WebSocket: `ws` in Node
 *   await chat.createRoom("general");
 *   const sub = await chat.subscribe("general", { onMessage: (m) => console.log(m.content) });
 *   await chat.sendMessage("general", "Hello!");
 */
import { type Attachment, DevToken, type HistoryPage, type Message, type Position, type RoomSettings, type RoomSummary, type SyncPage } from "../protocol";
import * as Answer from "./answers";
import { ChatError } from "./errors";
import { type InboxHandlers, InboxSubscription } from "./inbox";
import { type MediaData, type UploadOptions, uploadMedia } from "./media";
import { type ChatClientOptions, type DirectRoom, type HistoryOptions, type SendOptions, historyQuery, iso } from "./options";
import { SendOutbox } from "./outbox";
import type { WebSocketConstructor } from "./reconnecting-socket";
import { type SubscribeHandlers, type SubscribeOptions, Subscription } from "./subscription";
import { type Transport, createTransport } from "./transport";

export { ChatError } from "./errors";
export type { ChatErrorCode } from "./errors";
export { Subscription } from "./subscription";
export { MediaUploadError, DEFAULT_MULTIPART_THRESHOLD } from "./media";
export type { MediaData, UploadOptions } from "./media";
export { InboxSubscription } from "./inbox";
export type { InboxHandlers, InboxNoticeEvent, InboxRoom, InboxKind } from "./inbox";
export type { SubscribeHandlers, SubscribeOptions } from "./subscription";
export type { ConnectionState, WebSocketConstructor, WebSocketLike } from "./reconnecting-socket";
export type { ChatClientOptions, DirectRoom, HistoryOptions, SendOptions } from "./options";
/** Protocol limits apps need to mirror in their UI (page size, attachments per message, the 1:1 room id prefix). */
export { DEFAULT_HISTORY_LIMIT, DIRECT_ROOM_PREFIX, MAX_ATTACHMENTS } from "../protocol";
export type { Attachment, Message, Position, Position as SubscriptionPosition, RoomEvent, RoomSettings, RoomSummary, HistoryPage, ErrorCode, SyncPage, SyncEvent } from "../protocol";

const roomPath = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}`;

export class ChatClient {
  readonly #transport: Transport;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #outbox: SendOutbox;
  readonly #subscriptions = new Set<Subscription>();
  readonly #inboxes = new Set<InboxSubscription>();

  constructor(options: ChatClientOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Upload progress needs XMLHttpRequest in browsers; an app's own fetch is respected as is.
    this.#transport = createTransport(options.baseUrl, options.token, fetchImpl, options.fetch === undefined);
    this.#WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.#outbox = new SendOutbox(this.#transport);
  }

  /**
   * Dev auth only (`npm start`, DEV_AUTH): a token for any user id, from
   * `POST /api/dev/token`. Fails with `not_found` where dev auth is off.
   */
  static async devToken(baseUrl: string, userId: string, options: { admin?: boolean; fetch?: typeof fetch } = {}): Promise<string> {
    const transport = createTransport(baseUrl, "", options.fetch ?? globalThis.fetch.bind(globalThis));
    const body = options.admin === undefined ? { userId } : { userId, admin: options.admin };
    return (await transport.request(DevToken, "POST", "/api/dev/token", body)).token;
  }

  /** Creates a room; the caller becomes its owner and first member. Fails with `room_exists`. */
  async createRoom(roomId: string): Promise<{ roomId: string; kind: "group"; role: "owner" }> {
    return this.#transport.request(Answer.CreatedRoom, "POST", "/api/rooms", { roomId });
  }

  /** Joins a room. True if joined now, false if already a member. */
  async joinRoom(roomId: string): Promise<boolean> {
    return (await this.#transport.request(Answer.JoinResult, "POST", `${roomPath(roomId)}/join`)).joined;
  }

  /** Leaves a room. True if left now, false if not a member. */
  async leaveRoom(roomId: string): Promise<boolean> {
    return (await this.#transport.request(Answer.LeaveResult, "POST", `${roomPath(roomId)}/leave`)).left;
  }

  /**
   * Sends a message; resolves once it is stored, with its id, seq and server ts.
   * Network failures and server errors are retried with the same clientId, so a
   * retry never stores a second copy; permanent errors reject with ChatError.
   */
  sendMessage(roomId: string, content: string, options: SendOptions = {}): Promise<Message> {
    return this.#outbox.send(roomId, content, options);
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
    const { url } = await this.#transport.request(Answer.MediaUrl, "GET", `${roomPath(roomId)}/media/${encodeURIComponent(mediaId)}/url`);
    return `${this.#transport.baseUrl}${url}`;
  }

  /** A page of history in chronological order; `nextCursor` fetches the next older page. */
  async getHistory(roomId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.#transport.request(Answer.HistoryPage, "GET", `${roomPath(roomId)}/messages${historyQuery(options)}`);
  }

  /** Edits your own message; resolves with its new state (same id and seq, `editedTs`). */
  async editMessage(roomId: string, messageId: string, content: string): Promise<Message> {
    return this.#transport.request(Answer.Message, "PATCH", `${roomPath(roomId)}/messages/${encodeURIComponent(messageId)}`, { content });
  }

  /** Deletes a message for everyone (your own; owners and admins: any). Resolves with the tombstone. */
  async deleteMessage(roomId: string, messageId: string): Promise<Message> {
    return this.#transport.request(Answer.Message, "DELETE", `${roomPath(roomId)}/messages/${encodeURIComponent(messageId)}`);
  }

  /**
   * Deletes the whole conversation for every member, on every device. It can be
   * restored with `restoreRoom` until `restorableUntil`; then it is purged.
   */
  async deleteRoom(roomId: string): Promise<{ roomId: string; deleted: true; restorableUntil: string }> {
    return this.#transport.request(Answer.DeleteRoomResult, "DELETE", roomPath(roomId));
  }

  /** The room's settings: `{ roomId, retentionDays, effectiveRetentionDays }` (members). */
  async roomSettings(roomId: string): Promise<RoomSettings> {
    return this.#transport.request(Answer.RoomSettings, "GET", `${roomPath(roomId)}/settings`);
  }

  /**
   * Keep messages this many days (owners and admins); older ones become
   * tombstones with `expired: true`. null follows the deployment's default.
   */
  async setRoomRetention(roomId: string, retentionDays: number | null): Promise<RoomSettings> {
    return this.#transport.request(Answer.RoomSettings, "PATCH", `${roomPath(roomId)}/settings`, { retentionDays });
  }

  /** Undoes `deleteRoom` inside the undo window (the deleter, owners and admins). */
  async restoreRoom(roomId: string): Promise<{ roomId: string; restored: true }> {
    return this.#transport.request(Answer.RestoreRoomResult, "POST", `${roomPath(roomId)}/restore`);
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
    return this.#transport.request(Answer.SyncPage, "GET", `/api/sync${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
  }

  /** Each member's presence: `{ userId, online, devices, lastSeen }`. */
  async presence(roomId: string): Promise<Array<{ userId: string; online: boolean; devices: number; lastSeen: string | null }>> {
    return (await this.#transport.request(Answer.PresenceList, "GET", `${roomPath(roomId)}/presence`)).presence;
  }

  /** "nobody": others always see you offline, with no last-seen time. Applies to every room at once. */
  async setPresenceVisibility(visibility: "everyone" | "nobody"): Promise<void> {
    await this.#transport.call("PATCH", "/api/me/settings", { presenceVisibility: visibility });
  }

  /** "nobody": your read position is shared with your own devices only. */
  async setReadReceiptVisibility(visibility: "everyone" | "nobody"): Promise<void> {
    await this.#transport.call("PATCH", "/api/me/settings", { readReceiptVisibility: visibility });
  }

  /** Tells members you are typing; call it as the user types (it is rate limited and expires after 10 s). */
  async setTyping(roomId: string): Promise<void> {
    if (this.#liveSubscription(roomId)?.sendFrame({ type: "typing" })) return;
    await this.#transport.call("POST", `${roomPath(roomId)}/typing`);
  }

  /** Marks the room read up to and including `seq`. Only moves forward. */
  async markRead(roomId: string, seq: number): Promise<void> {
    if (this.#liveSubscription(roomId)?.sendFrame({ type: "read", seq })) return;
    await this.#transport.call("POST", `${roomPath(roomId)}/read`, { seq });
  }

  /** Every member's read position (private ones excluded). */
  async receipts(roomId: string): Promise<Array<{ userId: string; seq: number }>> {
    return (await this.#transport.request(Answer.ReceiptList, "GET", `${roomPath(roomId)}/receipts`)).receipts;
  }

  /** Removes a member (owners; admins for plain members). They may join again. */
  async kick(roomId: string, userId: string): Promise<void> {
    await this.#transport.call("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/kick`);
  }

  /** Removes a member and keeps them out until `unban`. */
  async ban(roomId: string, userId: string): Promise<void> {
    await this.#transport.call("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/ban`);
  }

  async unban(roomId: string, userId: string): Promise<void> {
    await this.#transport.call("POST", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/unban`);
  }

  /** Owners make members admins (who may delete messages and moderate) or plain members. */
  async setRole(roomId: string, userId: string, role: "admin" | "member"): Promise<void> {
    await this.#transport.call("PUT", `${roomPath(roomId)}/members/${encodeURIComponent(userId)}/role`, { role });
  }

  #liveSubscription(roomId: string): Subscription | undefined {
    for (const sub of this.#subscriptions) if (sub.roomId === roomId && sub.state === "live") return sub;
    return undefined;
  }

  /** Member ids in join order. */
  async activeUsers(roomId: string): Promise<string[]> {
    return (await this.#transport.request(Answer.ActiveUsers, "GET", `${roomPath(roomId)}/active-users`)).users;
  }

  /** The caller's rooms, most recent activity first. May lag changes by a few seconds. */
  async listRooms(): Promise<RoomSummary[]> {
    return (await this.#transport.request(Answer.RoomList, "GET", "/api/rooms")).rooms;
  }

  /** The 1:1 room of the caller and `userId`: the same room from both sides; nobody else may join. */
  async openDirect(userId: string): Promise<DirectRoom> {
    return this.#transport.request(Answer.DirectRoom, "POST", `/api/direct/${encodeURIComponent(userId)}`);
  }

  /**
   * Subscribes to a room's live events. Resolves once the subscription is live;
   * from then on it reconnects and resumes by itself until `sub.close()`.
   */
  async subscribe(roomId: string, handlers: SubscribeHandlers = {}, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#whenReady(this.#subscriptions, new Subscription(roomId, this.#transport, this.#socketClass(), handlers, options));
  }

  /**
   * Registers a push subscription (`PushSubscription` or its `toJSON()`): while
   * you have no live device, new messages in your rooms (up to the large-room
   * threshold, unless muted) arrive as Web Push notifications.
   */
  async registerPush(subscription: { endpoint: string; keys?: { p256dh: string; auth: string }; toJSON?: () => unknown }): Promise<void> {
    const body = typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
    await this.#transport.call("POST", "/api/me/push-subscriptions", body);
  }

  async unregisterPush(endpoint: string): Promise<boolean> {
    return (await this.#transport.request(Answer.PushUnregistered, "DELETE", "/api/me/push-subscriptions", { endpoint })).removed;
  }

  /** The key for PushManager.subscribe({ applicationServerKey }); null if the server has no VAPID keys. */
  async vapidPublicKey(): Promise<string | null> {
    return (await this.#transport.request(Answer.VapidPublicKey, "GET", "/api/push/vapid-public-key")).publicKey;
  }

  /** No push notifications from this room, until `until` (or until `unmuteRoom`). */
  async muteRoom(roomId: string, until?: Date | string): Promise<void> {
    await this.#transport.call("PUT", `${roomPath(roomId)}/mute`, until === undefined ? {} : { until: iso(until) });
  }

  async unmuteRoom(roomId: string): Promise<void> {
    await this.#transport.call("DELETE", `${roomPath(roomId)}/mute`);
  }

  /**
   * One socket for all your rooms: activity (with unread counts and the last
   * message), reads on your other devices, joins, leaves, deletions and
   * restores. Resolves once live; reconnects with jittered backoff until
   * `inbox.close()`.
   */
  async subscribeInbox(handlers: InboxHandlers = {}): Promise<InboxSubscription> {
    return this.#whenReady(this.#inboxes, new InboxSubscription(this.#transport, this.#socketClass(), handlers));
  }

  /** Closes every subscription. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.close();
    this.#subscriptions.clear();
    for (const inbox of this.#inboxes) inbox.close();
    this.#inboxes.clear();
  }

  /** Kept (for `close()`) once live; forgotten if it never gets there. */
  async #whenReady<T extends { ready: Promise<void> }>(live: Set<T>, subscription: T): Promise<T> {
    live.add(subscription);
    try {
      await subscription.ready;
    } catch (error) {
      live.delete(subscription);
      throw error;
    }
    return subscription;
  }

  #socketClass(): WebSocketConstructor {
    if (this.#WebSocket) return this.#WebSocket;
    throw new ChatError("invalid_request", "no WebSocket implementation: pass one in ChatClientOptions.WebSocket (e.g. the `ws` package)");
  }
}
