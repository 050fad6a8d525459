/**
 * Destroying what no hold protects: queued content of deleted, edited,
 * erased and expired messages, their media, and, once a deleted room's undo
 * window has passed, its whole content. Holds on the room are in its meta;
 * holds on users live in D1 (src/db/user-holds.ts), read once per run.
 * There may be more held users than a SQLite statement binds parameters
 * (100): each statement binds only the held with content in this room, as one
 * JSON array.
 */
import { heldUsers } from "../db/user-holds";
import { deleteAllRoomMedia } from "../media/cleanup";
import { errorText, log } from "../ops/log";
import type { AlarmJob } from "./scheduler";
import type { RoomState } from "./state";

/** How soon the purge looks again when D1 could not say who is held. */
const HOLDS_UNKNOWN_RETRY_MS = 60_000;

export interface PurgeOutcome {
  destroyed: number;
  roomPurged: boolean;
  /** When to look again (the undo window's end, or the hold recheck), or null. */
  next: number | null;
}

/** The synchronous part: destroys what `held` (users under a legal hold) does not keep. */
export function purge(state: RoomState, now: number, held: ReadonlySet<string>): PurgeOutcome {
  const meta = state.meta.current;
  if (!meta || meta.held) return { destroyed: 0, roomPurged: false, next: null };
  const destroyed = state.media.releaseRemoved(held) + state.purgeQueue.destroyUnheld(held);
  let roomPurged = false;
  if (meta.deletedTs !== null && !meta.purged && meta.restorableUntil !== null) {
    if (meta.restorableUntil > now) return { destroyed, roomPurged, next: meta.restorableUntil };
    // Messages of held users stay (out of reach, the room answers room_deleted); the rest goes.
    // Only the held with content here count: a hold elsewhere keeps nothing of this room.
    const keep = heldHere(state, held);
    state.log.purge(keep);
    state.tickets.clear();
    state.media.releaseRemoved(held, true);
    if (keep.length === 0) {
      state.members.removeAll();
      state.meta.patch({ purged: true });
      roomPurged = true;
    }
    // Audited once per outcome: a partial purge (held users' content kept) and the final one.
    if (roomPurged || !meta.partiallyPurged) {
      const detail = roomPurged ? (meta.partiallyPurged ? "held content destroyed" : null) : "held users' content retained";
      state.index.audit("system", "room_purged", null, detail, now);
      if (!roomPurged) state.meta.patch({ partiallyPurged: true });
      state.index.flushSoon();
    }
  }
  // `meta` is the state before this run: a room purged now is looked at once more, which finds nothing.
  const again = state.purgeQueue.size > 0 || (meta.deletedTs !== null && !meta.purged);
  return { destroyed, roomPurged, next: again ? now + state.limits.holdRecheckMs : null };
}

/** The held users with messages or media in this room. */
function heldHere(state: RoomState, held: ReadonlySet<string>): string[] {
  if (held.size === 0) return [];
  const here = new Set([...state.log.messageSenders(), ...state.media.uploaders()]);
  return [...here].filter((userId) => held.has(userId));
}

/** The alarm job: reads the user holds from D1, purges, and deletes a purged room's media from R2. */
export class PurgeJob implements AlarmJob {
  readonly name = "purge";

  constructor(
    private readonly state: RoomState,
    /** The D1 database with the legal holds; tests swap in a failing one. */
    public db: D1Database,
    private readonly bucket: R2Bucket,
    private readonly mediaPrefix: string,
  ) {}

  /** Reads the time itself, after the D1 read. */
  async run(): Promise<number | null> {
    const { state } = this;
    const meta = state.meta.current;
    if (!meta || meta.purged) return null;
    if (state.purgeQueue.size === 0 && state.media.countRemoved() === 0 && meta.deletedTs === null) return null;
    let held: Set<string>;
    try {
      held = await heldUsers(this.db);
    } catch {
      // Unknown holds: destroy nothing now, look again soon.
      return state.clock.now() + HOLDS_UNKNOWN_RETRY_MS;
    }
    const result = purge(state, state.clock.now(), held);
    if (result.destroyed > 0 || result.roomPurged) {
      log("info", "purge", { room: state.roomId, destroyed: result.destroyed, roomPurged: result.roomPurged, heldUsers: held.size });
    }
    if (result.roomPurged) {
      try {
        await this.purgeMedia();
      } catch (error) {
        // Rows stay marked `deleting`; the media cleanup retries them.
        log("error", "media_purge_failed", { room: state.roomId, error: errorText(error) });
      }
    }
    return result.next;
  }

  /** Deletes every media object of this room from R2. */
  purgeMedia(): Promise<number> {
    return deleteAllRoomMedia(this.bucket, this.mediaPrefix, this.state.media);
  }
}
