-- Schema version 15: how a pickup order was handed over: the customer's code, or an ID a
-- manager checked (a lost code); who collected it when not the customer; the signature
-- drawn on the terminal. Kept with the order and sent to the cloud with order.collected.
CREATE TABLE pickup_proof (
  order_id TEXT PRIMARY KEY REFERENCES fulfilment_order(id),
  method TEXT NOT NULL CHECK (method IN ('code', 'id_check')),
  id_type TEXT NOT NULL DEFAULT '',
  id_last_digits TEXT NOT NULL DEFAULT '',
  collected_by TEXT NOT NULL DEFAULT '',
  signature_png BLOB,
  collected_at INTEGER NOT NULL,
  actor TEXT NOT NULL
);
