-- Schema version 1: Catalog, inventory counters and the append-only stock ledger.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sku (
  sku TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  bin TEXT NOT NULL DEFAULT '',
  on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  unsellable INTEGER NOT NULL DEFAULT 0 CHECK (unsellable >= 0),
  safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
  updated_at INTEGER NOT NULL
);
CREATE TABLE sku_barcode (
  gtin TEXT PRIMARY KEY,
  sku TEXT NOT NULL REFERENCES sku(sku)
);
CREATE INDEX sku_barcode_by_sku ON sku_barcode(sku);
CREATE TABLE ledger (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL REFERENCES sku(sku),
  bucket TEXT NOT NULL CHECK (bucket IN ('on_hand', 'unsellable')),
  delta INTEGER NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL,
  order_id TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX ledger_by_sku ON ledger(sku);
