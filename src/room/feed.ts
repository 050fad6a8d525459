/**
 * How the room's changes reach its live sockets: every new event goes to
 * each live socket as one serialised frame, and a user who is no longer a
 * member (or everyone, when the room is deleted) is disconnected, their
 * sockets' leases given back to UserLimits.
 */
import type { Connection } from "partyserver";
import { CloseCodes, type RoomEvent } from "../protocol";
import type { RoomLimits } from "../kernel/config";
import type { Metrics } from "../ops/metrics";
import { releaseLease } from "../user/leases";
import { type LiveSockets, type RoomConnection, type SocketState, closeQuietly, userTag } from "./connections";
import type { RoomMetaStore } from "./meta";
import type { RoomFeed } from "./state";

/** The sockets the runtime holds for this room (partyserver's Server answers it). */
export interface SocketDirectory {
  getConnections<TState = unknown>(tag?: string): Iterable<Connection<TState>>;
}

export class Feed implements RoomFeed {
  constructor(
    private readonly roomId: string,
    private readonly meta: RoomMetaStore,
    private readonly limits: RoomLimits,
    private readonly sockets: LiveSockets,
    private readonly directory: SocketDirectory,
    private readonly env: Env,
    private readonly metrics: Metrics,
  ) {}

  publish(event: RoomEvent): void {
    const frame = { type: "event", roomId: this.roomId, epoch: this.meta.epoch, seq: event.seq, event } as const;
    const delivered = this.sockets.broadcast(frame, event.seq, this.limits.lagCap);
    if (event.type === "message") this.metrics.observe("fanout", delivered);
  }

  revoke(userId: string): void {
    for (const connection of this.directory.getConnections<SocketState>(userTag(userId))) this.#drop(connection, CloseCodes.notMember, "no longer a member");
  }

  closeAll(): void {
    for (const connection of this.directory.getConnections<SocketState>()) this.#drop(connection, CloseCodes.roomDeleted, "room deleted");
  }

  /** The socket's lease in its user's UserLimits goes back (idempotent; a lost one heals there). */
  release(connection: RoomConnection): void {
    const userId = connection.state?.userId;
    if (userId) releaseLease(this.env, userId, connection.id);
  }

  #drop(connection: RoomConnection, code: number, reason: string): void {
    this.sockets.delete(connection);
    this.release(connection);
    closeQuietly(connection, code, reason);
  }
}
