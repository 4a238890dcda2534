-- Schema version 17: walk-in sales and returns from the store's tills (the POS feed), and
-- the till's own terminal role.
--
-- A till transaction is applied once: its key is (till_id, transaction_id), the till's own
-- receipt number. The row keeps a digest of what was asked, to tell a retry (same content:
-- answered with `result` again, nothing changes) from a different transaction under a
-- reused number (refused), and the answer given the first time.
CREATE TABLE till_transaction (
  till_id TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sale', 'return')),
  request_digest TEXT NOT NULL,  -- SHA-256 of the request's canonical JSON
  result TEXT NOT NULL,          -- the answer's JSON, as first given
  actor TEXT NOT NULL,
  occurred_at INTEGER,           -- the till's clock, when it said
  applied_at INTEGER NOT NULL,
  event_seq INTEGER NOT NULL,    -- the outbox event that reports it
  PRIMARY KEY (till_id, transaction_id)
) WITHOUT ROWID;

-- A till pairs like a terminal, with role 'pos'. SQLite cannot widen a column's CHECK in
-- place: both tables are rebuilt with their rows (no table refers to them).
CREATE TABLE pairing_code_v17 (
  code_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager', 'pos')),
  name TEXT NOT NULL,
  station TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
INSERT INTO pairing_code_v17 SELECT code_hash, role, name, station, created_at, created_by,
  expires_at FROM pairing_code;
DROP TABLE pairing_code;
ALTER TABLE pairing_code_v17 RENAME TO pairing_code;

CREATE TABLE terminal_v17 (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager', 'pos')),
  station TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  paired_at INTEGER NOT NULL,
  paired_by TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO terminal_v17 SELECT id, name, role, station, token_hash, paired_at, paired_by,
  last_seen_at, revoked_at, revoked_by FROM terminal;
DROP TABLE terminal;
ALTER TABLE terminal_v17 RENAME TO terminal;
