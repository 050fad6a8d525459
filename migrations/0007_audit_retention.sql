-- The audit log is trimmed by age (AUDIT_RETENTION_DAYS, src/db/compliance.ts): by this index, not a scan.
CREATE INDEX IF NOT EXISTS audit_log_by_ts ON audit_log (ts);
