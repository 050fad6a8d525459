/**
 * The room's own facts (its kind, creator, epoch, deletion, holds, retention,
 * trim point): the `meta` table, one JSON value per key. Owner of `meta`; the
 * state is cached in memory and every write goes through `patch`, which keeps
 * the cache true.
 */
import { type Result, type RoomKind, fail, ok } from "../protocol";

export interface RoomMeta {
  kind: RoomKind;
  createdTs: number;
  createdBy: string;
  epoch: string;
  deletedTs: number | null;
  deletedBy: string | null;
  restorableUntil: number | null;
  /** The content of a deleted room was destroyed; only this tombstone remains. */
  purged: boolean;
  /** A legal hold: nothing of this room's content is destroyed while it is set. */
  held: boolean;
  /** Purged except what user holds keep. */
  partiallyPurged?: boolean;
  /** The room's own message retention in days; null or absent: the deployment default. */
  retentionDays?: number | null;
  /**
   * Everything up to this seq was trimmed by retention: messages are tombstones,
   * other events are gone. A resume from before it cannot be replayed.
   */
  trimmedThrough?: number;
}

export class RoomMetaStore {
  #meta: RoomMeta | null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly roomId: string,
  ) {
    this.#meta = readMeta(sql);
  }

  /** Null until the room is created. */
  get current(): RoomMeta | null {
    return this.#meta;
  }

  get epoch(): string {
    return this.#meta?.epoch ?? "";
  }

  /** Fails unless the room exists and is not deleted. */
  requireRoom(): Result<RoomMeta> {
    if (!this.#meta) return fail("room_not_found", `room ${this.roomId} does not exist`);
    if (this.#meta.deletedTs !== null) return fail("room_deleted", `room ${this.roomId} was deleted`);
    return ok(this.#meta);
  }

  /** A new room (or a purged direct room started afresh): a new epoch, nothing deleted. */
  initialise(kind: RoomKind, createdBy: string, now: number): void {
    this.#meta = null;
    this.patch({
      kind,
      createdBy,
      createdTs: now,
      epoch: crypto.randomUUID(),
      deletedTs: null,
      deletedBy: null,
      restorableUntil: null,
      purged: false,
      held: false,
    });
  }

  patch(patch: Partial<RoomMeta>): void {
    for (const [key, value] of Object.entries(patch)) {
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        JSON.stringify(value),
      );
    }
    this.#meta = { ...(this.#meta ?? ({} as RoomMeta)), ...patch };
  }
}

function readMeta(sql: SqlStorage): RoomMeta | null {
  const rows = sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray();
  const map = new Map(rows.map((r) => [r.key, parseStored(r.value)]));
  // The room exists once it has a kind (other keys, such as its id, may be written earlier).
  if (!map.has("kind")) return null;
  return {
    kind: map.get("kind") === "direct" ? "direct" : "group",
    createdBy: String(map.get("createdBy") ?? ""),
    createdTs: Number(map.get("createdTs") ?? 0),
    epoch: String(map.get("epoch") ?? ""),
    deletedTs: (map.get("deletedTs") as number | null | undefined) ?? null,
    deletedBy: (map.get("deletedBy") as string | null | undefined) ?? null,
    restorableUntil: (map.get("restorableUntil") as number | null | undefined) ?? null,
    purged: map.get("purged") === true,
    held: map.get("held") === true,
    partiallyPurged: map.get("partiallyPurged") === true,
    retentionDays: (map.get("retentionDays") as number | null | undefined) ?? null,
    trimmedThrough: Number(map.get("trimmedThrough") ?? 0),
  };
}

/** Values are JSON; rooms created before meta was JSON stored plain strings. */
function parseStored(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
