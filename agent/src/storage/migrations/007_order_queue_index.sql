-- Schema version 7: The terminals' queue reads orders oldest-routed first; without this every poll
-- sorted the whole order table.
CREATE INDEX order_queue ON fulfilment_order(routed_at, id);
