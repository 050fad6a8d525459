/**
 * Sockets of a room and what each needs to know about itself. A socket's
 * facts live in its attachment (partyserver's connection state), because
 * hibernation drops instance fields and eviction drops the whole instance.
 * The in-memory index of live sockets is only a cache of those attachments,
 * rebuilt from `getWebSockets()` on the first broadcast after a wake, so a
 * broadcast never deserialises an attachment per socket.
 */
import type { Connection } from "partyserver";
import { CloseCodes, type ServerFrame } from "../protocol";
import { type BucketConfig, TokenBuckets } from "../kernel/token-bucket";
import { log } from "../ops/log";

export interface SocketState {
  userId: string;
  /** Set once `hello` (and any replay) is done: only live sockets get new events. */
  live: boolean;
  /** The highest seq the client reported as received (`progress` frames). */
  acked: number;
  /** When the socket connected or last sent a frame: with heartbeats, how we tell it is alive. */
  since: number;
  /** When the token the socket was opened with expires (ms); the socket is closed then. */
  exp?: number | null;
}

export type RoomConnection = Connection<SocketState>;

/** Sockets this many events behind their acknowledged position get no ephemeral frames (presence, typing). */
export const EPHEMERAL_DROP_LAG = 50;

export const userTag = (userId: string) => `u:${userId}`;

export function send(connection: RoomConnection, frame: ServerFrame): void {
  sendRaw(connection, JSON.stringify(frame));
}

/**
 * A send to a socket that is closing throws; one dead socket must not stop a
 * broadcast to the others, and its close handler will clean it up.
 */
export function sendRaw(connection: RoomConnection, text: string): void {
  try {
    connection.send(text);
  } catch {
    // The socket is already gone; webSocketClose/error will follow.
  }
}

/**
 * Sockets this isolate closed itself (a flood, a kick, an expired token): what
 * their clients still send is not read. A flooder's frames keep coming after
 * its 4029, and reading each one cost everyone else's delivery latency.
 */
const closedByServer = new Set<string>();

export function closedByServerSide(connection: RoomConnection): boolean {
  return closedByServer.has(connection.id);
}

/** Its close event has arrived: nothing more will come from it. */
export function forgetClosed(connection: RoomConnection): void {
  closedByServer.delete(connection.id);
}

export function closeQuietly(connection: RoomConnection, code: number, reason: string): void {
  closedByServer.add(connection.id);
  // Once: a flooding client's frames keep arriving after its close, and a log
  // line for each (20,000 in the flood test) stalled the whole local runtime.
  if (connection.readyState === WebSocket.CLOSING || connection.readyState === WebSocket.CLOSED) return;
  // Reasons are fixed strings chosen by the server, never user input.
  log("info", "close", { conn: connection.id, code, reason, by: "server" });
  try {
    connection.close(code, reason);
  } catch {
    // Already closed.
  }
}

interface LiveEntry {
  connection: RoomConnection;
  state: SocketState;
  /** `acked` as last written to the attachment. */
  persistedAcked: number;
}

export class LiveSockets {
  #entries: Map<string, LiveEntry> | null = null;
  /** Frames per socket, in memory: an evicted room forgets it, erring on the side of the client. */
  readonly frameBudget: TokenBuckets;

  constructor(
    private readonly all: () => Iterable<RoomConnection>,
    frames: BucketConfig,
  ) {
    this.frameBudget = new TokenBuckets(frames);
  }

  #load(): Map<string, LiveEntry> {
    if (!this.#entries) {
      this.#entries = new Map();
      for (const connection of this.all()) {
        const state = connection.state;
        if (state?.live) this.#entries.set(connection.id, { connection, state: { ...state }, persistedAcked: state.acked });
      }
    }
    return this.#entries;
  }

  /** Persists the socket's state in its attachment and updates the cache. */
  set(connection: RoomConnection, state: SocketState): void {
    connection.setState(state);
    if (state.live) this.#load().set(connection.id, { connection, state, persistedAcked: state.acked });
    else this.#load().delete(connection.id);
  }

  /**
   * A live socket's `progress`: in memory at once, where the lag cap reads it;
   * in its attachment only once it moved `persistStep` past what is there (or
   * with the next `since` refresh). Every subscriber reports every 100 events,
   * and rewriting an attachment each time cost a busy room more than its
   * broadcasts to that socket. After a wake a socket's `acked` is at most
   * `persistStep` behind, which brings its cut-off that much nearer, once.
   */
  progress(connection: RoomConnection, acked: number, persistStep: number): void {
    const entry = this.#load().get(connection.id);
    if (!entry || acked <= entry.state.acked) return;
    entry.state = { ...entry.state, acked };
    if (acked - entry.persistedAcked >= persistStep) {
      connection.setState(entry.state);
      entry.persistedAcked = acked;
    }
  }

  get(connection: RoomConnection): SocketState | null {
    return this.#load().get(connection.id)?.state ?? connection.state ?? null;
  }

  delete(connection: RoomConnection): void {
    this.#entries?.delete(connection.id);
  }

  /** Live sockets of one user here: their devices. */
  devicesOf(userId: string): number {
    let n = 0;
    for (const entry of this.#load().values()) if (entry.state.userId === userId) n++;
    return n;
  }

  /** Live sockets per user, in one pass: a presence list reads every member's count from it. */
  deviceCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const entry of this.#load().values()) counts.set(entry.state.userId, (counts.get(entry.state.userId) ?? 0) + 1);
    return counts;
  }

  /**
   * Sends an ephemeral frame (presence, typing, receipts): never stored, so a
   * socket that is already `dropLag` events behind simply does not get it —
   * under load these go first, before anything that matters.
   */
  broadcastEphemeral(frame: ServerFrame, head: number, options: { onlyUser?: string; exceptUser?: string; dropLag?: number } = {}): void {
    const text = JSON.stringify(frame);
    for (const entry of this.#load().values()) {
      const user = entry.state.userId;
      if (options.onlyUser !== undefined && user !== options.onlyUser) continue;
      if (options.exceptUser !== undefined && user === options.exceptUser) continue;
      if (options.dropLag !== undefined && head - entry.state.acked > options.dropLag) continue;
      sendRaw(entry.connection, text);
    }
  }

  /**
   * Serialises a frame once and sends it to every live socket. A socket more
   * than `lagCap` events behind what it acknowledged is a consumer that cannot
   * keep up: it is cut off (it resumes later) rather than let its backlog grow
   * without bound. Returns the number of deliveries.
   */
  broadcast(frame: ServerFrame, seq: number, lagCap: number): number {
    const text = JSON.stringify(frame);
    let delivered = 0;
    for (const [id, entry] of this.#load()) {
      if (seq - entry.state.acked > lagCap) {
        this.#entries?.delete(id);
        closeQuietly(entry.connection, CloseCodes.tooSlow, "consumer too slow");
        continue;
      }
      sendRaw(entry.connection, text);
      delivered++;
    }
    return delivered;
  }
}
