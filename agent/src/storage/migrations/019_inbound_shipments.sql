-- Schema version 19: inbound shipments (a purchase order, an ASN, a transfer from another
-- store or the warehouse) announced by the cloud and received at the store by scanning.
-- The units themselves enter stock as ledger rows of kind 'receipt'; these tables hold what
-- was expected and what arrived per SKU, so a shipment received in part survives a restart
-- and its discrepancies can be reported when it is closed.
CREATE TABLE inbound_shipment (
  id TEXT PRIMARY KEY,  -- the cloud's id
  kind TEXT NOT NULL CHECK (kind IN ('purchase_order', 'asn', 'transfer')),
  source TEXT NOT NULL,  -- supplier, store or warehouse it comes from
  state TEXT NOT NULL CHECK (state IN ('expected', 'receiving', 'closed', 'cancelled')),
  expected_at INTEGER,  -- epoch ms, when the cloud gave one
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  closed_at INTEGER,
  closed_by TEXT,  -- the actor who closed it, or the cloud that cancelled it
  cancel_reason TEXT NOT NULL DEFAULT ''  -- why the cloud withdrew it
);
CREATE INDEX inbound_shipment_open ON inbound_shipment(state)
  WHERE state IN ('expected', 'receiving');
-- The labels a shipment may be found by (ASN, SSCC, PO numbers). A code may recur across
-- shipments over the years (a reused PO number); at most one open shipment holds it.
CREATE TABLE inbound_shipment_barcode (
  shipment_id TEXT NOT NULL REFERENCES inbound_shipment(id),
  code TEXT NOT NULL,
  PRIMARY KEY (shipment_id, code)
);
CREATE INDEX inbound_shipment_barcode_by_code ON inbound_shipment_barcode(code);
-- One line per SKU. expected = 0: an unexpected item, received as an extra line.
-- received counts every unit that arrived, damaged ones included.
CREATE TABLE inbound_shipment_line (
  shipment_id TEXT NOT NULL REFERENCES inbound_shipment(id),
  sku TEXT NOT NULL REFERENCES sku(sku),
  expected INTEGER NOT NULL CHECK (expected >= 0),
  received INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0),
  damaged INTEGER NOT NULL DEFAULT 0 CHECK (damaged >= 0 AND damaged <= received),
  PRIMARY KEY (shipment_id, sku)
);
