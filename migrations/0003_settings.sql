-- Per-user privacy settings. Rooms keep their own copy per member (pushed to them when a
-- setting changes, passed on join), so a room never waits on D1 to decide what to show.
CREATE TABLE user_settings (
  user_id            TEXT PRIMARY KEY,
  presence_hidden    INTEGER NOT NULL DEFAULT 0,
  receipts_private   INTEGER NOT NULL DEFAULT 0,
  updated_ts         INTEGER NOT NULL
);
