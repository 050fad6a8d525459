-- Every room a user ever joined, kept after they leave: erasure and the release of a user's
-- legal hold must reach messages they left behind in rooms they are no longer in.
CREATE TABLE participation (
  user_id  TEXT NOT NULL,
  room_id  TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id)
);
INSERT OR IGNORE INTO participation (user_id, room_id, first_ts) SELECT user_id, room_id, joined_ts FROM memberships;
