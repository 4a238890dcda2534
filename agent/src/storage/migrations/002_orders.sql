-- Schema version 2: Fulfilment orders, their lines, packages, reservations and history.
CREATE TABLE fulfilment_order (
  id TEXT PRIMARY KEY,
  order_ref TEXT NOT NULL,
  state TEXT NOT NULL,
  delivery_method TEXT NOT NULL CHECK (delivery_method IN ('ship', 'pickup')),
  customer TEXT NOT NULL,
  address TEXT NOT NULL,
  currency TEXT NOT NULL,
  routed_at INTEGER NOT NULL,
  accept_by INTEGER NOT NULL,
  ship_by INTEGER NOT NULL,
  reject_reason TEXT NOT NULL DEFAULT '',
  carrier TEXT NOT NULL DEFAULT '',
  tracking TEXT NOT NULL DEFAULT '',
  pickup_code TEXT NOT NULL DEFAULT '',
  pickup_attempts INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX order_by_state ON fulfilment_order(state, accept_by);
CREATE TABLE order_line (
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_minor INTEGER NOT NULL,
  picked INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  reject_reason TEXT NOT NULL DEFAULT '',
  CHECK (picked >= 0 AND rejected >= 0 AND picked + rejected <= quantity),
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE reservation (
  order_id TEXT NOT NULL,
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, line_no),
  FOREIGN KEY (order_id, line_no) REFERENCES order_line(order_id, line_no)
);
CREATE TABLE package (
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  package_no INTEGER NOT NULL,
  box_type TEXT NOT NULL,
  weight_g INTEGER NOT NULL,
  PRIMARY KEY (order_id, package_no)
);
CREATE TABLE package_item (
  order_id TEXT NOT NULL,
  package_no INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, package_no, line_no),
  FOREIGN KEY (order_id, package_no) REFERENCES package(order_id, package_no)
);
CREATE TABLE order_history (
  id INTEGER PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX history_by_order ON order_history(order_id);
