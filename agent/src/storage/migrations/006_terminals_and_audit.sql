-- Schema version 6: The in-store terminals: pairing codes and paired terminals (secrets kept only as
-- SHA-256 hashes), and the audit trail of every mutation made through the local API.
CREATE TABLE pairing_code (
  code_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager')),
  name TEXT NOT NULL,
  station TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE terminal (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager')),
  station TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  paired_at INTEGER NOT NULL,
  paired_by TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit(at);
