/**
 * The room's rules: who may do what, and what each change writes. Every
 * method runs synchronously against the room's SQLite, so each change (its
 * log entry, its index update in the outbox) commits as one unit, and no other
 * request can interleave with it.
 */
import {
  type Attachment,
  DIRECT_ROOM_PREFIX,
  type ErrorBody,
  type Message,
  type Role,
  type RoomEvent,
  type RoomKind,
  fail,
  ok,
  type Result,
  type SendMessageBody,
} from "../protocol";
import type { RoomLimits } from "./config";
import { EventLog } from "./event-log";
import { type HistoryRequest, type HistoryResult, readHistory } from "./history";
import { MediaRecords, toAttachment } from "./media";
import { Members } from "./members";
import { Outbox } from "./outbox";

interface RoomMeta {
  kind: RoomKind;
  createdTs: number;
  createdBy: string;
  epoch: string;
}

export interface Effects {
  /** A new event to deliver to every live socket. */
  publish(event: RoomEvent): void;
  /** The user is no longer a member: close their sockets. */
  revoke(userId: string): void;
  /** The outbox has something to write to D1. */
  scheduleFlush(): void;
}

const utf8 = new TextEncoder();

export class RoomCore {
  readonly log: EventLog;
  readonly members: Members;
  readonly outbox: Outbox;
  readonly media: MediaRecords;
  #meta: RoomMeta | null;

  constructor(
    readonly sql: SqlStorage,
    readonly roomId: string,
    readonly limits: RoomLimits,
    private readonly effects: Effects,
  ) {
    this.log = new EventLog(sql, roomId);
    this.members = new Members(sql);
    this.outbox = new Outbox(sql);
    this.media = new MediaRecords(sql);
    this.#meta = readMeta(sql);
  }

  get meta(): RoomMeta | null {
    return this.#meta;
  }

  get epoch(): string {
    return this.#meta?.epoch ?? "";
  }

  /** Fails unless the room exists and the user is a member. */
  requireMember(userId: string): Result<Role> {
    if (!this.#meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    const member = this.members.get(userId);
    if (!member) return fail("not_member", `you are not a member of ${this.roomId}`);
    return ok(member.role as Role);
  }

  create(userId: string): Result<{ roomId: string; kind: RoomKind; role: Role }> {
    if (this.roomId.startsWith(DIRECT_ROOM_PREFIX)) {
      return fail("invalid_request", `room ids starting with "${DIRECT_ROOM_PREFIX}" are reserved for direct rooms`);
    }
    if (this.#meta) return fail("room_exists", `room ${this.roomId} already exists`);
    this.#initialise("group", userId);
    this.#addMember(userId, "owner");
    return ok({ roomId: this.roomId, kind: "group", role: "owner" });
  }

  /** Creates the direct room of two users on first use; either side gets the same room. */
  openDirect(userId: string, otherId: string): Result<{ roomId: string; kind: "direct"; members: string[] }> {
    if (!this.#meta) {
      this.#initialise("direct", userId);
      for (const id of [userId, otherId].sort()) this.#addMember(id, "member");
    }
    if (this.#meta?.kind !== "direct") return fail("forbidden", "not a direct room");
    const members = this.members.list().map((m) => m.user_id);
    if (!members.includes(userId)) return fail("forbidden", "this direct room belongs to other users");
    return ok({ roomId: this.roomId, kind: "direct", members: [...members].sort() });
  }

  join(userId: string): Result<{ roomId: string; joined: boolean }> {
    if (!this.#meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    if (this.members.has(userId)) return ok({ roomId: this.roomId, joined: false });
    if (this.#meta.kind === "direct") return fail("forbidden", "nobody else may join a direct room");
    this.#addMember(userId, "member");
    return ok({ roomId: this.roomId, joined: true });
  }

  leave(userId: string): Result<{ roomId: string; left: boolean }> {
    if (!this.#meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    if (!this.members.has(userId)) return ok({ roomId: this.roomId, left: false });
    if (this.#meta.kind === "direct") return fail("forbidden", "a direct room cannot be left");
    this.members.remove(userId);
    const event = this.log.appendMembership("member_left", userId);
    this.outbox.put(`member:${userId}`, { op: "member_removed", roomId: this.roomId, userId, seq: event.seq });
    this.#touch(event.seq, Date.parse(event.ts));
    this.effects.revoke(userId);
    this.effects.publish(event);
    return ok({ roomId: this.roomId, left: true });
  }

  /**
   * Stores a message and publishes it. A repeated client id returns the
   * original message and stores nothing: the sender's retry after a lost ack.
   */
  send(userId: string, body: SendMessageBody): Result<{ message: Message; duplicate: boolean }> {
    const member = this.requireMember(userId);
    if (!member.ok) return member;
    if (body.clientId !== undefined) {
      const earlier = this.log.findByClientId(userId, body.clientId);
      if (earlier) return ok({ message: earlier, duplicate: true });
    }
    const attachments = this.#checkAttachments(userId, body.attachments ?? []);
    if (!attachments.ok) return attachments;
    const invalid = this.#checkContent(body.content, attachments.value.length > 0);
    if (invalid) return { ok: false, error: invalid };
    const message = this.log.appendMessage(userId, body.content, body.clientId, attachments.value);
    if (attachments.value.length > 0) this.media.attach(attachments.value.map((a) => a.mediaId), message.seq);
    this.#touch(message.seq, Date.parse(message.ts));
    this.effects.publish({ type: "message", seq: message.seq, ts: message.ts, message });
    return ok({ message, duplicate: false });
  }

  history(userId: string, req: HistoryRequest): Result<HistoryResult & { headSeq: number; epoch: string }> {
    const member = this.requireMember(userId);
    if (!member.ok) return member;
    const page = readHistory(this.sql, this.roomId, this.log.head, req);
    if (!page.ok) return page;
    return ok({ ...page.value, headSeq: this.log.head, epoch: this.epoch });
  }

  /** Each id must be a finished upload of this sender in this room, not yet on a message. */
  #checkAttachments(userId: string, mediaIds: string[]): Result<Attachment[]> {
    if (new Set(mediaIds).size !== mediaIds.length) return fail("invalid_request", "an attachment is listed twice");
    const attachments: Attachment[] = [];
    for (const mediaId of mediaIds) {
      const row = this.media.get(mediaId);
      if (!row || row.uploader !== userId || row.state !== "pending") {
        return fail("invalid_request", `attachment ${mediaId} is not a finished upload of yours in this room, or is already attached`);
      }
      attachments.push(toAttachment(row));
    }
    return ok(attachments);
  }

  #checkContent(content: string, hasAttachments: boolean): ErrorBody | null {
    if (content.length === 0 && !hasAttachments) return { code: "invalid_request", message: "content must not be empty" };
    // A UTF-16 length already over the limit is over it in UTF-8 too: skip the encode.
    if (content.length > this.limits.maxMessageBytes || utf8.encode(content).byteLength > this.limits.maxMessageBytes) {
      return { code: "content_too_large", message: `content is larger than ${this.limits.maxMessageBytes} bytes` };
    }
    return null;
  }

  #initialise(kind: RoomKind, createdBy: string): void {
    const meta: RoomMeta = { kind, createdBy, createdTs: Date.now(), epoch: crypto.randomUUID() };
    for (const [key, value] of Object.entries(meta)) {
      this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?)", key, String(value));
    }
    this.#meta = meta;
  }

  #addMember(userId: string, role: Role): void {
    const event = this.log.appendMembership("member_joined", userId, role);
    const ts = Date.parse(event.ts);
    this.members.add(userId, role, ts, event.seq);
    this.outbox.put(`member:${userId}`, { op: "member", roomId: this.roomId, userId, role, joinedTs: ts, seq: event.seq });
    this.#touch(event.seq, ts);
    this.effects.publish(event);
  }

  /** Records activity for the index: one outbox row per room, however many messages. */
  #touch(seq: number, ts: number): void {
    const meta = this.#meta!;
    this.outbox.put("room", {
      op: "room",
      roomId: this.roomId,
      kind: meta.kind,
      createdTs: meta.createdTs,
      lastActivityTs: ts,
      lastSeq: seq,
    });
    this.effects.scheduleFlush();
  }
}

function readMeta(sql: SqlStorage): RoomMeta | null {
  const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
  if (rows.length === 0) return null;
  const map = new Map(rows.map((r) => [r.key, r.value]));
  return {
    kind: (map.get("kind") as RoomKind | undefined) ?? "group",
    createdBy: map.get("createdBy") ?? "",
    createdTs: Number(map.get("createdTs") ?? 0),
    epoch: map.get("epoch") ?? "",
  };
}
