-- GET /api/admin/stats asks the most recently active rooms for their figures.
CREATE INDEX rooms_by_activity ON rooms (last_activity_ts);
