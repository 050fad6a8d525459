-- Deletion, offline sync, legal holds and the audit log.

-- A deleted room stays in the index as a tombstone, so its id cannot be reused by accident.
ALTER TABLE rooms ADD COLUMN deleted_ts INTEGER;

-- Each user's sync log: what changed in their room list, in order. `dedupe` makes every
-- write idempotent (a retried outbox flush inserts nothing twice); for room_activity it
-- holds one row per user and room, which INSERT OR REPLACE moves to the end of the log.
CREATE TABLE sync_log (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  type    TEXT NOT NULL,
  room_id TEXT NOT NULL,
  ts      INTEGER NOT NULL,
  dedupe  TEXT NOT NULL UNIQUE
);
CREATE INDEX sync_log_by_user ON sync_log (user_id, id);
CREATE INDEX sync_log_by_ts ON sync_log (ts);

-- Append-only: rows are inserted (idempotently, by id) and never updated or deleted.
CREATE TABLE audit_log (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  id      TEXT NOT NULL UNIQUE,
  ts      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  room_id TEXT,
  target  TEXT,
  detail  TEXT
);
CREATE INDEX audit_log_by_room ON audit_log (room_id, seq);

CREATE TABLE legal_holds (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('room', 'user')),
  target      TEXT NOT NULL,
  reason      TEXT,
  placed_by   TEXT NOT NULL,
  placed_ts   INTEGER NOT NULL,
  released_by TEXT,
  released_ts INTEGER
);
CREATE INDEX legal_holds_active ON legal_holds (kind, target) WHERE released_ts IS NULL;
