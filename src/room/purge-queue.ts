/**
 * Content taken out of users' reach (deleted, replaced by an edit, erased,
 * expired) and not yet destroyed: owner of `purge_queue`. Nothing here is
 * ever served to a client; the purge job destroys each row unless a legal
 * hold on the room or on the sender keeps it.
 */
export interface QueuedContent {
  messageId: string;
  sender: string;
  content: string;
}

export class PurgeQueue {
  constructor(private readonly sql: SqlStorage) {}

  /** Queues content to destroy; empty content has nothing to destroy. Returns whether a row was queued. */
  add(item: QueuedContent, reason: string, ts: number): boolean {
    if (!item.content) return false;
    this.sql.exec(
      "INSERT INTO purge_queue (msg_id, sender, content, reason, queued_ts) VALUES (?, ?, ?, ?, ?)",
      item.messageId,
      item.sender,
      item.content,
      reason,
      ts,
    );
    return true;
  }

  get size(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM purge_queue").one().n;
  }

  /** Destroys every queued row whose sender no hold protects; returns how many. */
  destroyUnheld(heldSenders: ReadonlySet<string>): number {
    let destroyed = 0;
    for (const row of this.sql.exec<{ id: number; sender: string }>("SELECT id, sender FROM purge_queue").toArray()) {
      if (heldSenders.has(row.sender)) continue;
      this.sql.exec("DELETE FROM purge_queue WHERE id = ?", row.id);
      destroyed++;
    }
    return destroyed;
  }
}
