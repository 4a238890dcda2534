-- Schema version 4: Customer returns received at the store.
CREATE TABLE return_receipt (
  id TEXT PRIMARY KEY,
  order_id TEXT REFERENCES fulfilment_order(id),
  actor TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL
);
CREATE TABLE return_line (
  return_id TEXT NOT NULL REFERENCES return_receipt(id),
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  disposition TEXT NOT NULL CHECK (disposition IN ('restock', 'unsellable', 'to_vendor')),
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (return_id, line_no)
);
CREATE INDEX return_by_order ON return_receipt(order_id);
