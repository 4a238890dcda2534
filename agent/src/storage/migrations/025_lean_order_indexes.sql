-- Fewer index pages written per order state change (issue 14, SD-card wear). Each state
-- change moved an order's entry in three indexes keyed by state; two of them serve one
-- query each and only ever look at one group of states, so they become partial indexes
-- that an order enters and leaves once instead of at every step.
-- The overdue sweep (routed orders by accept_by) is the only reader of order_by_state.
DROP INDEX order_by_state;
CREATE INDEX order_routed_by_accept_by ON fulfilment_order(accept_by) WHERE state = 'routed';
-- Retention (closed orders by their last change) is the only reader of
-- order_by_state_updated; the IN list is the one retention.cpp queries with.
DROP INDEX order_by_state_updated;
CREATE INDEX order_closed_by_updated ON fulfilment_order(updated_at)
  WHERE state IN ('shipped', 'collected', 'cancelled', 'rejected', 'expired');
-- order_queue(routed_at, id) serves every lookup order_by_routed_at served.
DROP INDEX order_by_routed_at;

-- The catalogue's size, kept by triggers so /health need not count 100k SKUs (which also
-- refilled ~2 MB of page cache the idle daemon had handed back).
CREATE TABLE catalog_size (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  skus INTEGER NOT NULL CHECK (skus >= 0)
);
INSERT INTO catalog_size (id, skus) SELECT 1, count(*) FROM sku;
CREATE TRIGGER sku_counted AFTER INSERT ON sku
BEGIN
  UPDATE catalog_size SET skus = skus + 1 WHERE id = 1;
END;
CREATE TRIGGER sku_uncounted AFTER DELETE ON sku
BEGIN
  UPDATE catalog_size SET skus = skus - 1 WHERE id = 1;
END;

-- Retention walks the audit oldest id first (retention.cpp), and the audit view reads newest
-- id first: the index on `at` cost a page per audited request and served neither.
DROP INDEX audit_by_time;

-- The outbox without AUTOINCREMENT: its sqlite_sequence row was one more page written by
-- every commit that records an event. Sequence numbers are still never reused: a new
-- event takes max(seq) + 1, and retention always keeps the newest sent event
-- (domain/retention.cpp), so the highest number ever given out is always in the table,
-- or, after a sequence repair moved numbering above the cloud's, in outbox_seq_floor.
INSERT INTO sync_state (key, value)
  SELECT 'outbox_seq_floor', CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'outbox'
  ON CONFLICT(key) DO NOTHING;
CREATE TABLE outbox_lean (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at INTEGER
);
INSERT INTO outbox_lean (seq, event_id, type, subject, payload, created_at, state, attempts,
                         last_error, sent_at)
  SELECT seq, event_id, type, subject, payload, created_at, state, attempts, last_error, sent_at
  FROM outbox ORDER BY seq;
DROP TABLE outbox;
ALTER TABLE outbox_lean RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(state, seq);
DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_lean');
