/**
 * The room's own SQLite tables. Upgrades are numbered and applied in order,
 * once, inside the constructor: SQL calls are synchronous, so no request can
 * observe a half-migrated room.
 *
 * Each table has one owning module, and no SQL on it appears anywhere else:
 *
 *   meta              meta.ts         (RoomMetaStore)
 *   members, bans     members.ts      (Members)
 *   events            event-log.ts    (EventLog; row codecs in event-rows.ts)
 *   outbox            outbox.ts       (Outbox; its D1 statements in src/db/room-outbox.ts)
 *   purge_queue       purge-queue.ts  (PurgeQueue)
 *   presence_pending  presence.ts     (Presence)
 *   media, media_parts media.ts       (MediaRecords)
 *   tickets           src/kernel/tickets.ts (shared with the inbox; reached through state.ts's RoomTickets)
 *   schema_version    this file
 */
const upgrades: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE members (
    user_id   TEXT PRIMARY KEY,
    role      TEXT NOT NULL,
    joined_ts INTEGER NOT NULL,
    join_seq  INTEGER NOT NULL
  );
  CREATE INDEX members_join_order ON members (join_seq);

  -- The event log. seq is the rowid, so range reads by seq walk the table's own b-tree.
  -- Message rows keep their content here; other events keep a small JSON payload.
  CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    type      TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    msg_id    TEXT,
    content   TEXT,
    client_id TEXT,
    data      TEXT
  );
  -- ts never decreases with seq (the room clamps it), so a time bound maps to a seq bound.
  CREATE INDEX events_ts ON events (ts);
  CREATE UNIQUE INDEX events_msg_id ON events (msg_id) WHERE msg_id IS NOT NULL;
  CREATE UNIQUE INDEX events_client_id ON events (actor, client_id) WHERE client_id IS NOT NULL;

  -- Changes still to be written to the D1 index. One row per key holds the latest
  -- state for that key, so a burst of messages leaves one 'activity' row, not thousands.
  CREATE TABLE outbox (
    key     TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    version INTEGER NOT NULL
  );

  CREATE TABLE tickets (
    ticket     TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_ts INTEGER NOT NULL
  );
  `,
  `
  -- Edits and deletions change a message's row in place: it keeps its slot (seq, id).
  ALTER TABLE events ADD COLUMN edited_ts INTEGER;
  ALTER TABLE events ADD COLUMN deleted_ts INTEGER;
  ALTER TABLE events ADD COLUMN deleted_by TEXT;

  -- Content taken out of users' reach (deleted, replaced by an edit, erased) and not yet
  -- destroyed. The alarm destroys each row at once unless a legal hold on the room or on
  -- the sender protects it; nothing here is ever served to a client.
  CREATE TABLE purge_queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id    TEXT NOT NULL,
    sender    TEXT NOT NULL,
    content   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    queued_ts INTEGER NOT NULL
  );
  `,
  `
  -- Presence, privacy and read positions, per member of this room.
  ALTER TABLE members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE members ADD COLUMN last_seen INTEGER;
  ALTER TABLE members ADD COLUMN presence_hidden INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE members ADD COLUMN receipts_private INTEGER NOT NULL DEFAULT 0;
  -- Users whose last socket closed: announced offline once the grace period passes
  -- without a new connection (a flapping connection announces nothing).
  CREATE TABLE presence_pending (user_id TEXT PRIMARY KEY, left_ts INTEGER NOT NULL, due_ts INTEGER NOT NULL);
  `,
  `
  -- Moderation: banned users cannot join again until unbanned.
  CREATE TABLE bans (user_id TEXT PRIMARY KEY, banned_by TEXT NOT NULL, banned_ts INTEGER NOT NULL);
  -- A socket lives no longer than the token its ticket was bought with.
  ALTER TABLE tickets ADD COLUMN token_exp INTEGER;
  `,
  // 2: media uploads of this room (the files live in R2 under rooms/<this object's id>/).
  `
  CREATE TABLE media (
    media_id      TEXT PRIMARY KEY,
    uploader      TEXT NOT NULL,
    r2_key        TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT,
    size          INTEGER,
    width         INTEGER,
    height        INTEGER,
    etag          TEXT,
    -- uploading: bytes still coming; pending: stored, not yet on a message;
    -- attached: on message msg_seq; deleting: to be removed from R2 (retried by the alarm).
    state         TEXT NOT NULL,
    msg_seq       INTEGER,
    upload_id     TEXT,
    r2_upload_id  TEXT,
    part_size     INTEGER,
    created_ts    INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX media_upload ON media (upload_id) WHERE upload_id IS NOT NULL;
  CREATE INDEX media_msg ON media (msg_seq) WHERE msg_seq IS NOT NULL;
  CREATE INDEX media_state ON media (state, created_ts);

  CREATE TABLE media_parts (
    media_id    TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (media_id, part_number)
  );
  `,
  // 6: when each outbox row's oldest unwritten change was made (the D1 index's lag, for metrics).
  `
  ALTER TABLE outbox ADD COLUMN queued_ts INTEGER;
  `,
  // 7: minting a ticket deletes the expired ones: by this index, not a scan of the table.
  `
  CREATE INDEX tickets_expiry ON tickets (expires_ts);
  `,
  // 8: the rank a ban was placed with ('owner', 'admin', or 'deployment' for a deployment admin):
  // only an equal or higher rank lifts it, whatever became of the banner since.
  // Bans from before: a banner still in the room keeps their role (an admin since demoted
  // banned as an admin); one who is gone counts as an owner, so no admin lifts their ban.
  `
  ALTER TABLE bans ADD COLUMN banned_by_rank TEXT NOT NULL DEFAULT 'owner';
  UPDATE bans SET banned_by_rank = 'admin'
    WHERE banned_by IN (SELECT user_id FROM members WHERE role <> 'owner');
  `,
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const current = row?.version ?? 0;
  if (current >= upgrades.length) return;
  for (let i = current; i < upgrades.length; i++) sql.exec(upgrades[i]!);
  sql.exec("DELETE FROM schema_version");
  sql.exec("INSERT INTO schema_version (version) VALUES (?)", upgrades.length);
}
