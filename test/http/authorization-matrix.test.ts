/**
 * The authorization matrix: every operation of the API against every kind of
 * caller, each outcome asserted as status and error code. The table is the
 * proof: a meta-test reads the published OpenAPI document and fails for any
 * documented operation without a row here, so a new route cannot ship
 * without its authorization being stated.
 *
 * Every cell (operation x actor) gets its own fresh room, set up through the
 * room object's RPC, so no outcome depends on what another cell did. The
 * requests under test go through the real Worker (SELF.fetch).
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../src/protocol";
import { placeHold } from "../../src/db/compliance";
import { signMediaUrl } from "../../src/media/signed-url";
import { directRoomId } from "../../src/kernel/direct";
import type { UserLimits } from "../../src/user/limits";
import { BASE, TEST_AUTH_SECRET, api, freshMinute, socketOf, tokenFor, uniqueRoom, upgrade } from "../helpers";
import { png } from "../media/fixtures";

// ---- actors -------------------------------------------------------------------

const ACTORS = [
  "anonymous",
  "badToken",
  "owner",
  "roomAdmin",
  "member",
  "nonMember",
  "kicked",
  "banned",
  "otherOwner",
  "admin",
] as const;
type Actor = (typeof ACTORS)[number];

/** User ids. Deployment admin: `root` with the admin claim. */
const IDS = {
  owner: "mx-owner",
  roomAdmin: "mx-room-admin",
  member: "mx-member",
  /** A plain member nobody plays: the target of kick, ban and role changes. */
  bystander: "mx-bystander",
  nonMember: "mx-stranger",
  kicked: "mx-kicked",
  banned: "mx-banned",
  otherOwner: "mx-other-owner",
  admin: "root",
  peer: "mx-peer",
} as const;

const tokens: Partial<Record<Actor, string>> = {};
/** The room otherOwner owns (they are nobody in the rooms under test). */
let otherRoom = "";
/** The direct room of owner and member. */
let directRoom = "";

function must<T>(result: Result<T>, what: string): T {
  if (!result.ok) throw new Error(`${what}: ${JSON.stringify(result.error)}`);
  return result.value;
}

// ---- a fresh room per cell ----------------------------------------------------

interface Cell {
  room: string;
  /** The actor's own message in the room (kicked and banned sent one before they were removed). */
  own: Partial<Record<Actor, string>>;
  /** A message of someone else: the member's for the owner, the owner's for everyone else. */
  ownerMessage: string;
  memberMessage: string;
  /** Connect tickets kicked and banned bought while they were still members. */
  staleTicket: Partial<Record<Actor, string>>;
  /** A user in the room who is erased by the erase row. */
  eraseTarget: string;
  /** Media, for the media rows only (see withMedia). */
  media?: MediaFixture;
}

interface MediaFixture {
  /** The owner's file, attached to a message. */
  attached: string;
  /** The member's file, uploaded and not attached yet. */
  pending: string;
  /** The member's resumable upload, no part stored. */
  upload: string;
  /** The member's resumable upload with its only part stored: ready to complete. */
  ready: string;
  /** Signed download URLs of the attached file, issued to the owner and to the (since kicked) kicked user. */
  ownerUrl: string;
  kickedUrl: string;
}

const PART_BYTES = 5 * 1024 * 1024;
const MEDIA_TYPE = { contentType: "image/png", filename: "a.png", width: 640, height: 480 };

/**
 * Media of a cell's room, made the way the Worker makes them (room RPC around
 * the bytes in R2) without HTTP: setup, not what is under test.
 */
async function withMedia(cell: Cell): Promise<Cell> {
  const stub = env.ROOMS.getByName(cell.room);
  const bytes = png(100);
  const stored = async (userId: string) => {
    const slot = must(await stub.beginUpload(userId, { filename: "a.png", size: bytes.byteLength, partSize: null }), "beginUpload");
    const object = await env.MEDIA.put(slot.key, bytes, { httpMetadata: { contentType: "image/png" } });
    return must(await stub.finishUpload(userId, slot.mediaId, { size: bytes.byteLength, etag: object.httpEtag, type: MEDIA_TYPE }), "finishUpload").mediaId;
  };
  const resumable = async (withPart: boolean) => {
    const slot = must(await stub.beginUpload(IDS.member, { filename: "b.png", size: bytes.byteLength, partSize: PART_BYTES }), "beginUpload");
    const multipart = await env.MEDIA.createMultipartUpload(slot.key);
    must(await stub.setMultipartUpload(IDS.member, slot.uploadId!, multipart.uploadId), "setMultipartUpload");
    if (withPart) {
      const part = await multipart.uploadPart(1, bytes);
      must(await stub.recordPart(IDS.member, slot.uploadId!, { partNumber: 1, etag: part.etag, size: bytes.byteLength }, MEDIA_TYPE), "recordPart");
    }
    return slot.uploadId!;
  };
  const attached = await stored(IDS.owner);
  must(await stub.sendMessage(IDS.owner, { content: "a picture", attachments: [attached] }), "attach");
  const pending = await stored(IDS.member);
  const [upload, ready] = [await resumable(false), await resumable(true)];
  const ownerUrl = (await signMediaUrl(env, cell.room, attached, IDS.owner, 3600)).url;
  const kickedUrl = (await signMediaUrl(env, cell.room, attached, IDS.kicked, 3600)).url;
  return { ...cell, media: { attached, pending, upload, ready, ownerUrl, kickedUrl } };
}

let cellCounter = 0;

async function freshRoom(opts: { deleted?: boolean } = {}): Promise<Cell> {
  const room = uniqueRoom("authz");
  const stub = env.ROOMS.getByName(room);
  const eraseTarget = `mx-erase-${cellCounter++}`;
  must(await stub.create(IDS.owner), "create");
  const joined = await Promise.all([IDS.roomAdmin, IDS.member, IDS.bystander, IDS.kicked, IDS.banned, eraseTarget].map((id) => stub.join(id)));
  joined.forEach((result) => must(result, "join"));
  must(await stub.setRole({ userId: IDS.owner }, IDS.roomAdmin, "admin"), "setRole");
  const writers = ["owner", "roomAdmin", "member", "kicked", "banned"] as const;
  const sent = await Promise.all(writers.map((actor) => stub.sendMessage(IDS[actor], { content: `by ${actor}` })));
  const own: Cell["own"] = Object.fromEntries(writers.map((actor, i) => [actor, must(sent[i]!, "send").id]));
  must(await stub.sendMessage(eraseTarget, { content: "to be erased" }), "send");
  const staleTicket: Cell["staleTicket"] = {};
  for (const actor of ["kicked", "banned"] as const) staleTicket[actor] = must(await stub.connectTicket(IDS[actor], null), "ticket").ticket;
  must(await stub.moderate({ userId: IDS.owner }, IDS.kicked, "kick"), "kick");
  must(await stub.moderate({ userId: IDS.owner }, IDS.banned, "ban"), "ban");
  if (opts.deleted) must(await stub.deleteRoom({ userId: IDS.owner }), "deleteRoom");
  return { room, own, ownerMessage: own.owner!, memberMessage: own.member!, staleTicket, eraseTarget };
}

// ---- outcomes -----------------------------------------------------------------

/** "200", "201", "101 live", or "<status> <code>" for an error. Some rows add a detail ("200 joined=true"). */
type Outcome = string;

async function outcomeOf(res: { status: number; body: any }, detail?: (body: any) => string): Promise<Outcome> {
  const code = res.body?.error?.code;
  if (res.status >= 400) {
    expect(typeof res.body?.error?.message, `error message for ${res.status}`).toBe("string");
    return `${res.status} ${String(code)}`;
  }
  expect(res.body?.error, "success carries no error").toBeUndefined();
  return detail ? `${res.status} ${detail(res.body)}` : String(res.status);
}

interface Request {
  method: string;
  path: string;
  /** A JSON body. */
  body?: unknown;
  /** A raw body (files). */
  raw?: Uint8Array;
}

interface Row {
  /** What is done. */
  op: string;
  /** "METHOD /path/{template}" as in the OpenAPI document. */
  route: string;
  /**
   * The room the row acts on: "shared" (default), one fresh room for the row,
   * which every actor's request hits at once (for rows where no actor's
   * request can change another's outcome); "perActor", a fresh room for each
   * actor (rows whose success changes the room for the others: deleting it,
   * restoring it, removing its owner, deleting a message); "none".
   */
  room?: "shared" | "perActor" | "none";
  /** The room is deleted (by its owner) before the requests. */
  deleted?: boolean;
  /** The room gets media (withMedia) before the requests. */
  media?: boolean;
  request?: (cell: Cell, actor: Actor) => Request | Promise<Request>;
  /** For rows that are more than one request (the WebSocket). */
  run?: (cell: Cell, actor: Actor) => Promise<Outcome>;
  detail?: (body: any) => string;
  expect: Record<Actor, Outcome>;
}

const NM = "403 not_member";
const FB = "403 forbidden";
const UA = "401 unauthorized";
const NF = "404 not_found";

/** Members (owner, room admin, plain member) succeed; everyone else is not a member; no token is 401. */
const membersOnly = (ok: Outcome): Record<Actor, Outcome> => ({
  anonymous: UA,
  badToken: UA,
  owner: ok,
  roomAdmin: ok,
  member: ok,
  nonMember: NM,
  kicked: NM,
  banned: NM,
  otherOwner: NM,
  admin: NM,
});
/** Anyone with a valid token. */
const anyUser = (ok: Outcome): Record<Actor, Outcome> => ({
  anonymous: UA,
  badToken: UA,
  owner: ok,
  roomAdmin: ok,
  member: ok,
  nonMember: ok,
  kicked: ok,
  banned: ok,
  otherOwner: ok,
  admin: ok,
});
/** Deployment admins only. */
const adminOnly = (ok: Outcome): Record<Actor, Outcome> => ({
  anonymous: UA,
  badToken: UA,
  owner: FB,
  roomAdmin: FB,
  member: FB,
  nonMember: FB,
  kicked: FB,
  banned: FB,
  otherOwner: FB,
  admin: ok,
});
/** Public: the Authorization header, valid or not, plays no part. */
const everyone = (ok: Outcome): Record<Actor, Outcome> => Object.fromEntries(ACTORS.map((a) => [a, ok])) as Record<Actor, Outcome>;

const r = (cell: Cell) => `/api/rooms/${cell.room}`;
/** A browser's push keys: an uncompressed P-256 point and a 16-byte secret. */
const PUSH_KEYS = { p256dh: "BEz4k9mjao7q8HUbFrV1g_d_82E3s4b0frKUWRo8mNHWwuqBaxvUxVoxVwNo6SiYAv6IJUgKiR8XP7zj8j5IF10", auth: "vTaIwZRDNaWbh26MSMqMZg" };
/** The actor's own message, or an id that exists nowhere for actors who never wrote here. */
const ownMessage = (cell: Cell, actor: Actor) => cell.own[actor] ?? "msg-that-does-not-exist";
const othersMessage = (cell: Cell, actor: Actor) => (actor === "owner" ? cell.memberMessage : cell.ownerMessage);

/** Opens the room's WebSocket as the actor would: ticket, upgrade, hello. */
async function openSocket(cell: Cell, actor: Actor, origin?: string, headers?: Record<string, string>): Promise<Outcome> {
  let url = `${r(cell)}/ws`;
  if (actor === "kicked" || actor === "banned") {
    url += `?ticket=${encodeURIComponent(cell.staleTicket[actor]!)}`;
  } else if (actor === "badToken") {
    url += "?ticket=forged-ticket-0123456789abcdef";
  } else if (actor === "otherOwner") {
    // A real ticket, for the room they own: it is worth nothing in another room.
    const ticket = must(await env.ROOMS.getByName(otherRoom).connectTicket(IDS.otherOwner, null), "ticket");
    url += `?ticket=${encodeURIComponent(ticket.ticket)}`;
  } else if (actor !== "anonymous") {
    const ticket = await api<{ url: string }>("POST", `${r(cell)}/connect-ticket`, { token: tokens[actor] });
    if (ticket.status === 200) url = ticket.body.url;
  }
  const res = await upgrade(url, { ...(origin ? { origin } : {}), headers });
  if (res.status !== 101) return outcomeOf({ status: res.status, body: await res.json() });
  const socket = socketOf(res);
  try {
    socket.send({ type: "hello", protocol: 1 });
    const first = await socket.waitFor((f) => f.type === "live" || f.type === "error");
    if (first.type === "error") return `101 ${first.error.code}`;
    return `101 ${first.type}`;
  } finally {
    socket.close();
  }
}

/**
 * Runs `fn` with the actor's live-connection cap (their UserLimits object) at 0, as if
 * they already had MAX_CONNECTIONS_PER_USER sockets open, then puts it back.
 */
async function atConnectionCap(actor: Actor, fn: () => Promise<Outcome>): Promise<Outcome> {
  if (actor === "anonymous" || actor === "badToken") return fn();
  const limits = env.USER_LIMITS.getByName(IDS[actor]);
  const setCap = (n: number | null) =>
    runInDurableObject(limits, (instance: UserLimits) => {
      const config = instance.config as { maxConnections: number };
      const before = config.maxConnections;
      if (n !== null) config.maxConnections = n;
      return before;
    });
  const before = await setCap(0);
  try {
    return await fn();
  } finally {
    await setCap(before);
  }
}

/**
 * One client address whose upgrade allowance (UPGRADE_LIMITER: 60 a minute, fixed
 * windows) is used up right before each request of the rows that need it: bogus
 * attempts until one is refused (at once when the window is already spent).
 */
const FLOODING_IP = `192.0.2.${Math.floor(Math.random() * 250)}`;
async function exhaustUpgradeLimit(): Promise<void> {
  // The local limiter counts in minute windows aligned to the clock: exhausted just before a
  // window ends, it would let the upgrades that follow through. Start in a fresh window then.
  await freshMinute(50_000);
  for (let i = 0; i < 200; i++) {
    const res = await upgrade(`/api/rooms/nowhere/ws?ticket=bogus-${i}`, { headers: { "CF-Connecting-IP": FLOODING_IP } });
    await res.body?.cancel();
    if (res.status === 429) return;
  }
  throw new Error("the upgrade limit never refused");
}

/**
 * `open` from the flooding address once its allowance is spent. The local limiter counts
 * clock-aligned minutes, so if a window ended between spending it and the request (a row of
 * nine actors took 23-32 s here under load), the address was no longer over the limit when it
 * asked: spend the new window and ask again. What is asserted is still the first answer given
 * from inside a spent window.
 */
async function overTheUpgradeLimit(open: () => Promise<Outcome>): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    await exhaustUpgradeLimit();
    const minute = Math.floor(Date.now() / 60_000);
    const outcome = await open();
    if (Math.floor(Date.now() / 60_000) === minute || attempt >= 3) return outcome;
  }
}

/** Opens the actor's inbox socket: a ticket for their own inbox, then the upgrade (for `user`, theirs unless given). */
async function openInbox(actor: Actor, user?: string, headers?: Record<string, string>): Promise<Outcome> {
  let url = `/api/inbox/ws?user=${encodeURIComponent(user ?? IDS.owner)}`;
  if (actor === "badToken") url += "&ticket=forged-ticket-0123456789abcdef";
  else if (actor !== "anonymous") {
    const ticket = await api<{ url: string; ticket: string }>("POST", "/api/inbox/connect-ticket", { token: tokens[actor] });
    expect(ticket.status).toBe(200);
    url = user === undefined ? ticket.body.url : `/api/inbox/ws?user=${encodeURIComponent(user)}&ticket=${encodeURIComponent(ticket.body.ticket)}`;
  }
  const res = await upgrade(url, { headers });
  if (res.status !== 101) return outcomeOf({ status: res.status, body: await res.json() });
  socketOf(res).close();
  return "101";
}

const ROWS: Row[] = [
  // ---- the caller's settings: first, while the actors are in few rooms (a change is applied to each) ----
  {
    op: "read my settings",
    route: "GET /api/me/settings",
    room: "none",
    request: () => ({ method: "GET", path: "/api/me/settings" }),
    expect: anyUser("200"),
  },
  {
    op: "change my settings",
    route: "PATCH /api/me/settings",
    room: "none",
    request: () => ({ method: "PATCH", path: "/api/me/settings", body: {} }),
    expect: anyUser("200"),
  },
  // ---- messages ----
  {
    op: "read history",
    route: "GET /api/rooms/{roomId}/messages",
    request: (c) => ({ method: "GET", path: `${r(c)}/messages?limit=10` }),
    expect: membersOnly("200"),
  },
  {
    op: "send a message",
    route: "POST /api/rooms/{roomId}/messages",
    request: (c) => ({ method: "POST", path: `${r(c)}/messages`, body: { content: "hello" } }),
    expect: membersOnly("201"),
  },
  {
    op: "edit own message",
    route: "PATCH /api/rooms/{roomId}/messages/{messageId}",
    request: (c, a) => ({ method: "PATCH", path: `${r(c)}/messages/${ownMessage(c, a)}`, body: { content: "edited" } }),
    // Membership is checked before the message is looked up: strangers learn nothing about ids.
    expect: { ...membersOnly("200") },
  },
  {
    op: "edit another's message",
    route: "PATCH /api/rooms/{roomId}/messages/{messageId}",
    request: (c, a) => ({ method: "PATCH", path: `${r(c)}/messages/${othersMessage(c, a)}`, body: { content: "edited" } }),
    expect: { ...membersOnly(FB) },
  },
  {
    op: "delete own message",
    route: "DELETE /api/rooms/{roomId}/messages/{messageId}",
    request: (c, a) => ({ method: "DELETE", path: `${r(c)}/messages/${ownMessage(c, a)}` }),
    // The deployment admin passes the membership check, and has no message of their own here.
    expect: { ...membersOnly("200"), admin: "404 message_not_found" },
  },
  {
    op: "delete another's message",
    route: "DELETE /api/rooms/{roomId}/messages/{messageId}",
    // Per actor: a second delete of a deleted message answers its tombstone, whoever asks.
    room: "perActor",
    request: (c, a) => ({ method: "DELETE", path: `${r(c)}/messages/${othersMessage(c, a)}` }),
    expect: { ...membersOnly("200"), member: FB, admin: "200" },
  },
  // ---- the room ----
  {
    op: "delete the room",
    route: "DELETE /api/rooms/{roomId}",
    room: "perActor",
    request: (c) => ({ method: "DELETE", path: r(c) }),
    expect: { ...membersOnly("200"), member: FB, admin: "200" },
  },
  {
    op: "restore a deleted room",
    route: "POST /api/rooms/{roomId}/restore",
    room: "perActor",
    deleted: true,
    request: (c) => ({ method: "POST", path: `${r(c)}/restore` }),
    expect: { anonymous: UA, badToken: UA, owner: "200", roomAdmin: "200", member: FB, nonMember: FB, kicked: FB, banned: FB, otherOwner: FB, admin: "200" },
  },
  {
    op: "restore a room that is not deleted",
    route: "POST /api/rooms/{roomId}/restore",
    request: (c) => ({ method: "POST", path: `${r(c)}/restore` }),
    // The same rule as for a deleted room: a no-op for those allowed, refused to the rest.
    expect: { anonymous: UA, badToken: UA, owner: "200", roomAdmin: "200", member: FB, nonMember: FB, kicked: FB, banned: FB, otherOwner: FB, admin: "200" },
  },
  {
    op: "list members",
    route: "GET /api/rooms/{roomId}/members",
    request: (c) => ({ method: "GET", path: `${r(c)}/members` }),
    expect: membersOnly("200"),
  },
  {
    op: "list active users",
    route: "GET /api/rooms/{roomId}/active-users",
    request: (c) => ({ method: "GET", path: `${r(c)}/active-users` }),
    expect: membersOnly("200"),
  },
  {
    op: "read presence",
    route: "GET /api/rooms/{roomId}/presence",
    request: (c) => ({ method: "GET", path: `${r(c)}/presence` }),
    expect: membersOnly("200"),
  },
  {
    op: "read receipts",
    route: "GET /api/rooms/{roomId}/receipts",
    request: (c) => ({ method: "GET", path: `${r(c)}/receipts` }),
    expect: membersOnly("200"),
  },
  {
    op: "mark read",
    route: "POST /api/rooms/{roomId}/read",
    request: (c) => ({ method: "POST", path: `${r(c)}/read`, body: { seq: 1 } }),
    expect: membersOnly("200"),
  },
  {
    op: "typing",
    route: "POST /api/rooms/{roomId}/typing",
    request: (c) => ({ method: "POST", path: `${r(c)}/typing` }),
    expect: membersOnly("200"),
  },
  // ---- membership ----
  {
    op: "join",
    route: "POST /api/rooms/{roomId}/join",
    request: (c) => ({ method: "POST", path: `${r(c)}/join` }),
    detail: (b) => `joined=${b.joined}`,
    // Group rooms are open to anyone with a token, kicked users included; banned users stay out.
    expect: {
      anonymous: UA,
      badToken: UA,
      owner: "200 joined=false",
      roomAdmin: "200 joined=false",
      member: "200 joined=false",
      nonMember: "200 joined=true",
      kicked: "200 joined=true",
      banned: FB,
      otherOwner: "200 joined=true",
      admin: "200 joined=true",
    },
  },
  {
    op: "join someone else's direct room",
    route: "POST /api/rooms/{roomId}/join",
    room: "none",
    request: () => ({ method: "POST", path: `/api/rooms/${directRoom}/join` }),
    detail: (b) => `joined=${b.joined}`,
    // The direct room of owner and member: only they are in it, and nobody else gets in.
    expect: {
      anonymous: UA,
      badToken: UA,
      owner: "200 joined=false",
      roomAdmin: FB,
      member: "200 joined=false",
      nonMember: FB,
      kicked: FB,
      banned: FB,
      otherOwner: FB,
      admin: FB,
    },
  },
  {
    op: "leave",
    route: "POST /api/rooms/{roomId}/leave",
    request: (c) => ({ method: "POST", path: `${r(c)}/leave` }),
    detail: (b) => `left=${b.left}`,
    expect: {
      ...anyUser("200 left=false"),
      owner: "200 left=true",
      roomAdmin: "200 left=true",
      member: "200 left=true",
    },
  },
  {
    op: "buy a connect ticket",
    route: "POST /api/rooms/{roomId}/connect-ticket",
    request: (c) => ({ method: "POST", path: `${r(c)}/connect-ticket` }),
    expect: membersOnly("200"),
  },
  {
    op: "open the WebSocket (ticket, upgrade, hello)",
    route: "GET /api/rooms/{roomId}/ws",
    run: (c, a) => openSocket(c, a),
    // kicked and banned: a ticket bought while still a member is refused once they are out.
    // otherOwner: a valid ticket of their own room. anonymous: no ticket. badToken: a forged one.
    expect: { ...membersOnly("101 live"), nonMember: UA, otherOwner: UA, admin: UA, anonymous: UA, badToken: UA },
  },
  {
    op: "open the WebSocket from a foreign origin",
    route: "GET /api/rooms/{roomId}/ws",
    run: (c, a) => openSocket(c, a, "https://evil.example"),
    expect: everyone(FB),
  },
  {
    op: "open the WebSocket with MAX_CONNECTIONS_PER_USER sockets already open",
    route: "GET /api/rooms/{roomId}/ws",
    run: (c, a) => atConnectionCap(a, () => openSocket(c, a)),
    // The cap is looked at only for a good ticket of a member: nobody else learns of it.
    expect: { ...membersOnly("429 too_many_connections"), nonMember: UA, otherOwner: UA, admin: UA, anonymous: UA, badToken: UA },
  },
  {
    op: "open the WebSocket from an address over the upgrade limit",
    route: "GET /api/rooms/{roomId}/ws",
    // Refused before anything else is looked at, whoever asks.
    run: (c, a) => overTheUpgradeLimit(() => openSocket(c, a, undefined, { "CF-Connecting-IP": FLOODING_IP })),
    expect: everyone("429 rate_limited"),
  },
  // ---- moderation ----
  {
    op: "kick a plain member",
    route: "POST /api/rooms/{roomId}/members/{userId}/kick",
    request: (c) => ({ method: "POST", path: `${r(c)}/members/${IDS.bystander}/kick` }),
    expect: { ...membersOnly("200"), member: FB, admin: "200" },
  },
  {
    op: "kick the owner",
    route: "POST /api/rooms/{roomId}/members/{userId}/kick",
    room: "perActor",
    request: (c) => ({ method: "POST", path: `${r(c)}/members/${IDS.owner}/kick` }),
    expect: { ...membersOnly(FB), owner: "400 invalid_request", admin: "200" },
  },
  {
    // Admins cannot ban an owner (issue 15): like a kick of the owner.
    op: "ban the owner",
    route: "POST /api/rooms/{roomId}/members/{userId}/ban",
    room: "perActor",
    request: (c) => ({ method: "POST", path: `${r(c)}/members/${IDS.owner}/ban` }),
    expect: { ...membersOnly(FB), owner: "400 invalid_request", admin: "200" },
  },
  {
    op: "ban a plain member",
    route: "POST /api/rooms/{roomId}/members/{userId}/ban",
    request: (c) => ({ method: "POST", path: `${r(c)}/members/${IDS.bystander}/ban` }),
    expect: { ...membersOnly("200"), member: FB, admin: "200" },
  },
  {
    // The owner placed the ban: only an equal or higher rank lifts it (issue 15), so not a room
    // admin. Per actor: one actor's unban would change what the next one finds.
    op: "unban the banned user",
    route: "POST /api/rooms/{roomId}/members/{userId}/unban",
    room: "perActor",
    request: (c) => ({ method: "POST", path: `${r(c)}/members/${IDS.banned}/unban` }),
    expect: { ...membersOnly("200"), roomAdmin: FB, member: FB, admin: "200" },
  },
  {
    op: "make a plain member a room admin",
    route: "PUT /api/rooms/{roomId}/members/{userId}/role",
    request: (c) => ({ method: "PUT", path: `${r(c)}/members/${IDS.bystander}/role`, body: { role: "admin" } }),
    expect: { ...membersOnly(FB), owner: "200", admin: "200" },
  },
  // ---- room settings ----
  {
    op: "read the room's settings",
    route: "GET /api/rooms/{roomId}/settings",
    request: (c) => ({ method: "GET", path: `${r(c)}/settings` }),
    expect: membersOnly("200"),
  },
  {
    op: "set the room's retention",
    route: "PATCH /api/rooms/{roomId}/settings",
    request: (c) => ({ method: "PATCH", path: `${r(c)}/settings`, body: { retentionDays: 3650 } }),
    expect: { ...membersOnly(FB), owner: "200", roomAdmin: "200", admin: "200" },
  },
  // ---- the caller's rooms ----
  {
    op: "create a room",
    route: "POST /api/rooms",
    room: "none",
    request: () => ({ method: "POST", path: "/api/rooms", body: { roomId: uniqueRoom("authz-new") } }),
    expect: anyUser("201"),
  },
  {
    op: "create a room that exists",
    route: "POST /api/rooms",
    request: (c) => ({ method: "POST", path: "/api/rooms", body: { roomId: c.room } }),
    expect: anyUser("409 room_exists"),
  },
  {
    op: "list my rooms",
    route: "GET /api/rooms",
    room: "none",
    request: () => ({ method: "GET", path: "/api/rooms" }),
    expect: anyUser("200"),
  },
  {
    op: "sync the room list",
    route: "GET /api/sync",
    room: "none",
    request: () => ({ method: "GET", path: "/api/sync" }),
    expect: anyUser("200"),
  },
  {
    op: "open a direct room",
    route: "POST /api/direct/{userId}",
    room: "none",
    request: () => ({ method: "POST", path: `/api/direct/${IDS.peer}` }),
    expect: anyUser("200"),
  },
  // ---- deployment admin ----
  {
    op: "place a legal hold",
    route: "POST /api/admin/holds",
    request: (c) => ({ method: "POST", path: "/api/admin/holds", body: { roomId: c.room, reason: "matrix" } }),
    expect: adminOnly("201"),
  },
  {
    op: "list legal holds",
    route: "GET /api/admin/holds",
    room: "none",
    request: () => ({ method: "GET", path: "/api/admin/holds" }),
    expect: adminOnly("200"),
  },
  {
    op: "release a legal hold",
    route: "DELETE /api/admin/holds/{holdId}",
    request: async (c) => {
      const hold = await placeHold(env.DB, "room", c.room, "matrix", IDS.admin);
      return { method: "DELETE", path: `/api/admin/holds/${hold.holdId}` };
    },
    expect: adminOnly("200"),
  },
  {
    op: "read the audit log",
    route: "GET /api/admin/audit",
    room: "none",
    request: () => ({ method: "GET", path: "/api/admin/audit?limit=5" }),
    expect: adminOnly("200"),
  },
  {
    op: "read the running instance's figures",
    route: "GET /api/admin/stats",
    room: "none",
    request: () => ({ method: "GET", path: "/api/admin/stats?limit=5" }),
    expect: adminOnly("200"),
  },
  {
    op: "erase a user",
    route: "POST /api/admin/users/{userId}/erase",
    request: (c) => ({ method: "POST", path: `/api/admin/users/${c.eraseTarget}/erase` }),
    expect: adminOnly("200"),
  },
  {
    op: "read the progress of an erasure nobody asked for",
    route: "GET /api/admin/users/{userId}/erasure",
    request: (c) => ({ method: "GET", path: `/api/admin/users/${c.eraseTarget}/erasure` }),
    expect: adminOnly("404 not_found"),
  },
  // ---- media ----
  {
    op: "upload a file in one request",
    route: "POST /api/rooms/{roomId}/media",
    request: (c) => ({ method: "POST", path: `${r(c)}/media`, raw: png(100) }),
    expect: membersOnly("201"),
  },
  {
    op: "start a resumable upload",
    route: "POST /api/rooms/{roomId}/media/uploads",
    request: (c) => ({ method: "POST", path: `${r(c)}/media/uploads`, body: { filename: "b.png", size: 100 } }),
    expect: membersOnly("201"),
  },
  {
    op: "read the member's upload in progress",
    route: "GET /api/rooms/{roomId}/media/uploads/{uploadId}",
    media: true,
    request: (c) => ({ method: "GET", path: `${r(c)}/media/uploads/${c.media!.upload}` }),
    // An upload is its uploader's alone until it is attached.
    expect: { ...membersOnly(NF), member: "200" },
  },
  {
    op: "store a part of the member's upload",
    route: "PUT /api/rooms/{roomId}/media/uploads/{uploadId}/parts/{partNumber}",
    media: true,
    request: (c) => ({ method: "PUT", path: `${r(c)}/media/uploads/${c.media!.upload}/parts/1`, raw: png(100) }),
    expect: { ...membersOnly(NF), member: "200" },
  },
  {
    op: "complete the member's upload",
    route: "POST /api/rooms/{roomId}/media/uploads/{uploadId}/complete",
    media: true,
    request: (c) => ({ method: "POST", path: `${r(c)}/media/uploads/${c.media!.ready}/complete` }),
    expect: { ...membersOnly(NF), member: "200" },
  },
  {
    op: "cancel the member's upload",
    route: "DELETE /api/rooms/{roomId}/media/uploads/{uploadId}",
    media: true,
    request: (c) => ({ method: "DELETE", path: `${r(c)}/media/uploads/${c.media!.upload}` }),
    expect: { ...membersOnly(NF), member: "200" },
  },
  {
    op: "get a signed URL of an attached file",
    route: "GET /api/rooms/{roomId}/media/{mediaId}/url",
    media: true,
    request: (c) => ({ method: "GET", path: `${r(c)}/media/${c.media!.attached}/url` }),
    expect: membersOnly("200"),
  },
  {
    op: "download an attached file",
    route: "GET /api/rooms/{roomId}/media/{mediaId}",
    media: true,
    request: (c) => ({ method: "GET", path: `${r(c)}/media/${c.media!.attached}` }),
    expect: membersOnly("200"),
  },
  {
    op: "download the member's file that is not attached yet",
    route: "GET /api/rooms/{roomId}/media/{mediaId}",
    media: true,
    request: (c) => ({ method: "GET", path: `${r(c)}/media/${c.media!.pending}` }),
    expect: { ...membersOnly(NF), member: "200" },
  },
  {
    op: "download with the owner's signed URL (the URL is the credential)",
    route: "GET /api/rooms/{roomId}/media/{mediaId}",
    media: true,
    request: (c) => ({ method: "GET", path: c.media!.ownerUrl }),
    expect: everyone("200"),
  },
  {
    op: "download with a signed URL issued to a member since kicked",
    route: "GET /api/rooms/{roomId}/media/{mediaId}",
    media: true,
    request: (c) => ({ method: "GET", path: c.media!.kickedUrl }),
    expect: everyone(NM),
  },
  {
    op: "download with a forged signature",
    route: "GET /api/rooms/{roomId}/media/{mediaId}",
    media: true,
    request: (c) => ({ method: "GET", path: c.media!.ownerUrl.replace(/sig=[^&]+/, "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") }),
    expect: everyone(UA),
  },
  // ---- inbox and push ----
  {
    op: "buy an inbox ticket (for one's own inbox)",
    route: "POST /api/inbox/connect-ticket",
    room: "none",
    request: () => ({ method: "POST", path: "/api/inbox/connect-ticket" }),
    expect: anyUser("200"),
  },
  {
    op: "open one's own inbox socket",
    route: "GET /api/inbox/ws",
    room: "none",
    run: (_c, a) => openInbox(a),
    expect: anyUser("101"),
  },
  {
    op: "open one's own inbox socket with MAX_CONNECTIONS_PER_USER sockets already open",
    route: "GET /api/inbox/ws",
    room: "none",
    run: (_c, a) => atConnectionCap(a, () => openInbox(a)),
    expect: anyUser("429 too_many_connections"),
  },
  {
    op: "open one's own inbox socket from an address over the upgrade limit",
    route: "GET /api/inbox/ws",
    room: "none",
    run: (_c, a) => overTheUpgradeLimit(() => openInbox(a, undefined, { "CF-Connecting-IP": FLOODING_IP })),
    expect: everyone("429 rate_limited"),
  },
  {
    op: "open another user's inbox with one's own ticket",
    route: "GET /api/inbox/ws",
    room: "none",
    // The ticket is spent by the inbox it was issued for; any other inbox does not know it.
    run: (_c, a) => openInbox(a, IDS.peer),
    expect: anyUser(UA),
  },
  {
    op: "read the VAPID public key",
    route: "GET /api/push/vapid-public-key",
    room: "none",
    request: () => ({ method: "GET", path: "/api/push/vapid-public-key" }),
    expect: anyUser("200"),
  },
  {
    op: "register a push subscription",
    route: "POST /api/me/push-subscriptions",
    room: "none",
    // An endpoint of a known push service, one per actor (an endpoint belongs to the user who registered it), and a browser's keys.
    request: (_c, a) => ({ method: "POST", path: "/api/me/push-subscriptions", body: { endpoint: `https://fcm.googleapis.com/fcm/send/matrix-${a}`, keys: PUSH_KEYS } }),
    expect: anyUser("200"),
  },
  {
    op: "unregister a push subscription",
    route: "DELETE /api/me/push-subscriptions",
    room: "none",
    request: (_c, a) => ({ method: "DELETE", path: "/api/me/push-subscriptions", body: { endpoint: `https://fcm.googleapis.com/fcm/send/matrix-${a}` } }),
    expect: anyUser("200"),
  },
  {
    op: "mute a room",
    route: "PUT /api/rooms/{roomId}/mute",
    request: (c) => ({ method: "PUT", path: `${r(c)}/mute`, body: {} }),
    expect: membersOnly("200"),
  },
  {
    op: "unmute a room",
    route: "DELETE /api/rooms/{roomId}/mute",
    request: (c) => ({ method: "DELETE", path: `${r(c)}/mute` }),
    // Only the caller's own mute setting is touched, so it is not checked against membership.
    expect: anyUser("200"),
  },
  // ---- public ----
  {
    op: "get a dev token (dev auth on, as in tests)",
    route: "POST /api/dev/token",
    room: "none",
    request: () => ({ method: "POST", path: "/api/dev/token", body: { userId: "mx-dev" } }),
    expect: everyone("200"),
  },
  {
    op: "abort a room object (dev auth on, as in tests)",
    route: "POST /api/dev/rooms/{roomId}/abort",
    request: (c) => ({ method: "POST", path: `/api/dev/rooms/${c.room}/abort` }),
    expect: everyone("200"),
  },
  {
    op: "read the OpenAPI document",
    route: "GET /api/openapi.json",
    room: "none",
    request: () => ({ method: "GET", path: "/api/openapi.json" }),
    expect: everyone("200"),
  },
  {
    op: "health check",
    route: "GET /api/health",
    room: "none",
    request: () => ({ method: "GET", path: "/api/health" }),
    expect: everyone("200"),
  },
];

/** Routes the Worker serves that the OpenAPI document does not describe (each still has rows). */
const UNDOCUMENTED = new Set(["GET /api/rooms/{roomId}/ws", "GET /api/inbox/ws", "POST /api/dev/rooms/{roomId}/abort", "GET /api/openapi.json", "GET /api/health"]);

// ---- running it ------------------------------------------------------------------

const NO_ROOM: Cell = { room: "", own: {}, ownerMessage: "", memberMessage: "", staleTicket: {}, eraseTarget: "" };

/** Performs a request as the actor; the body is read as JSON when it is JSON (files are not). */
async function perform(req: Request, token: string | undefined): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (req.raw) {
    headers["content-type"] = "application/octet-stream";
    body = req.raw as BodyInit;
  } else if (req.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(req.body);
  }
  const res = await SELF.fetch(`${BASE}${req.path}`, { method: req.method, headers, body });
  if ((res.headers.get("content-type") ?? "").includes("json")) return { status: res.status, body: await res.json() };
  await res.arrayBuffer();
  return { status: res.status, body: null };
}

async function roomFor(row: Row): Promise<Cell> {
  const cell = await freshRoom({ deleted: row.deleted === true });
  return row.media ? withMedia(cell) : cell;
}

async function runCell(row: Row, actor: Actor, shared: Cell | null): Promise<Outcome> {
  const cell = shared ?? (await roomFor(row));
  if (row.run) return row.run(cell, actor);
  const req = await row.request!(cell, actor);
  return outcomeOf(await perform(req, actor === "anonymous" ? undefined : tokens[actor]), row.detail);
}

beforeAll(async () => {
  for (const actor of ["owner", "roomAdmin", "member", "nonMember", "kicked", "banned", "otherOwner"] as const) {
    tokens[actor] = await tokenFor(IDS[actor]);
  }
  tokens.admin = await tokenFor(IDS.admin, true);
  // Well formed, unexpired, for a real user, signed with the wrong key.
  tokens.badToken = await new SignJWT({ admin: true })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(IDS.member)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(`${TEST_AUTH_SECRET}-but-not-quite`));
  otherRoom = uniqueRoom("authz-other");
  must(await env.ROOMS.getByName(otherRoom).create(IDS.otherOwner), "other room");
  directRoom = await directRoomId(IDS.owner, IDS.member);
  must(await env.ROOMS.getByName(directRoom).openDirect(IDS.owner, IDS.member), "direct room");
}, 60_000);

describe("authorization matrix", () => {
  it("has a row for every operation of the OpenAPI document, and documents every other row's route", async () => {
    const res = await api("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.length).toBeGreaterThan(20);
    const covered = new Set(ROWS.map((row) => row.route));
    expect(documented.filter((route) => !covered.has(route)), "documented operations without a row").toEqual([]);
    const documentedSet = new Set(documented);
    expect(
      [...covered].filter((route) => !documentedSet.has(route) && !UNDOCUMENTED.has(route)),
      "rows for routes that are neither documented nor known undocumented",
    ).toEqual([]);
    // And every row names every actor (the types insist too).
    for (const row of ROWS) expect(Object.keys(row.expect).sort(), row.op).toEqual([...ACTORS].sort());
  });

  it.each(ROWS.map((row) => [`${row.route} — ${row.op}`, row] as const))("%s", async (_name, row) => {
    const room = row.room ?? "shared";
    const shared = room === "none" ? NO_ROOM : room === "shared" ? await roomFor(row) : null;
    const outcomes = await Promise.all(ACTORS.map((actor) => runCell(row, actor, shared)));
    const actual = Object.fromEntries(ACTORS.map((actor, i) => [actor, outcomes[i]]));
    expect(actual).toEqual(row.expect);
    // A row whose nine actors each exhaust the upgrade limiter (200 bogus upgrades apiece, after
    // waiting for a fresh minute when the window is nearly over) took 12-20 s on this 2-core
    // machine under load, at the edge of the pool's default 20 s.
  }, 60_000);
});
