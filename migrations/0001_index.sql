-- The user-to-room index, derived from the room objects through their outboxes.
-- Every write the rooms make here is idempotent, so a retried flush is harmless,
-- and the whole index can be rebuilt from the rooms.

CREATE TABLE rooms (
  room_id          TEXT PRIMARY KEY,
  kind             TEXT NOT NULL,
  created_ts       INTEGER NOT NULL,
  last_activity_ts INTEGER NOT NULL,
  last_seq         INTEGER NOT NULL
);

CREATE TABLE memberships (
  user_id   TEXT NOT NULL,
  room_id   TEXT NOT NULL,
  role      TEXT NOT NULL,
  joined_ts INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id)
);
CREATE INDEX memberships_by_room ON memberships (room_id);
