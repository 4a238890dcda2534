-- Migration 014: finding orders the way associates name them.
-- The customer's name and phone as the queue's search reads them, kept beside the JSON so
-- a search compares columns instead of parsing every order's customer: the phone without
-- spaces, '+', '-' and parentheses (domain/order_rows.cpp writes both the same way).
ALTER TABLE fulfilment_order ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfilment_order ADD COLUMN phone_search TEXT NOT NULL DEFAULT '';
UPDATE fulfilment_order SET
  customer_name = coalesce(json_extract(customer, '$.name'), ''),
  phone_search = replace(replace(replace(replace(replace(
    coalesce(json_extract(customer, '$.phone'), ''), ' ', ''), '+', ''), '-', ''), '(', ''), ')', '');
-- The queue of one state (what terminals poll) in queue order, without reading the orders
-- of every other state first.
CREATE INDEX order_queue_by_state ON fulfilment_order(state, routed_at, id);
-- A customer's order number, as typed or scanned in any letter case (lookup, returns).
CREATE INDEX order_by_ref ON fulfilment_order(order_ref COLLATE NOCASE);
-- A parcel's tracking number (lookup); most orders have none.
CREATE INDEX order_by_tracking ON fulfilment_order(tracking) WHERE tracking <> '';
-- The orders with a SKU on a line (the queue's search by SKU or barcode).
CREATE INDEX order_line_by_sku ON order_line(sku COLLATE NOCASE);
