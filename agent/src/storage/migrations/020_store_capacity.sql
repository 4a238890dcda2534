-- Schema version 20: how many orders the store takes. A manager may pause taking orders
-- ("closing early", "short staffed"): one row, kept across restarts. Orders the cloud routes
-- beyond the day's capacity, while paused or while the store is closed are still received
-- and say why (capacity_flag); the day's count reads routed_at by index.
CREATE TABLE store_pause (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  reason TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  paused_by TEXT NOT NULL,
  paused_at INTEGER NOT NULL,
  paused_until INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE fulfilment_order ADD COLUMN capacity_flag TEXT NOT NULL DEFAULT ''
  CHECK (capacity_flag IN ('', 'over_capacity', 'paused', 'closed'));
CREATE INDEX order_by_routed_at ON fulfilment_order(routed_at);
