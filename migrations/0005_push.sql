-- Web Push: each user's push subscriptions (one per browser/device), and muted rooms.
CREATE TABLE push_subscriptions (
  endpoint   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  p256dh     TEXT NOT NULL,
  auth       TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

-- until_ts NULL: muted until unmuted.
CREATE TABLE room_mutes (
  user_id  TEXT NOT NULL,
  room_id  TEXT NOT NULL,
  until_ts INTEGER,
  PRIMARY KEY (user_id, room_id)
);
