-- Schema version 5: The cloud link: commands applied from the feed (exactly once, by id), the feed
-- cursor and other sync state, orders on hold, and each ledger row's event sequence
-- (snapshot reconciliation re-applies the movements the cloud has not seen). Rows from
-- before the link existed count as seen (0).
CREATE TABLE inbox (
  command_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  cursor TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected', 'deferred')),
  detail TEXT NOT NULL DEFAULT '',
  applied_at INTEGER NOT NULL
);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
ALTER TABLE fulfilment_order ADD COLUMN on_hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN event_seq INTEGER;
UPDATE ledger SET event_seq = 0;
CREATE INDEX ledger_by_event ON ledger(event_seq);
CREATE INDEX ledger_unstamped ON ledger(id) WHERE event_seq IS NULL;
