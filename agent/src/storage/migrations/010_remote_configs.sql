-- Schema version 10: Remote configuration from brand IT: every desired config received, its trial
-- and its outcome (the one 'active' row is layered over the local file at start).
CREATE TABLE remote_config (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  key_id TEXT NOT NULL DEFAULT '',
  settings TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('received', 'trying', 'active', 'superseded',
                                       'rolled_back', 'refused')),
  reason TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX remote_config_by_state ON remote_config(state, id);
INSERT INTO remote_config (command_id, payload, state, received_at)
  SELECT 'stored-before-migration-10', value, 'received', 0 FROM sync_state
  WHERE key = 'desired_config';
DELETE FROM sync_state WHERE key = 'desired_config';
