-- Schema version 8: Each pack desk's active session: the order its hardware scanners pick into.
CREATE TABLE station_session (
  station TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  opened_by TEXT NOT NULL,
  opened_at INTEGER NOT NULL
);
