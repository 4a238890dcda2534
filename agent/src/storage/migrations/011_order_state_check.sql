-- Schema version 11: an order's state is one of the lifecycle's states
-- (domain/order_lifecycle.cpp). SQLite cannot add a CHECK to a column of an existing
-- table without rebuilding the table, order lines and history with it, on every store's
-- database; these triggers refuse the same rows, in place.
CREATE TRIGGER fulfilment_order_state_insert BEFORE INSERT ON fulfilment_order
WHEN NEW.state NOT IN ('routed', 'accepted', 'rejected', 'expired', 'picking', 'picked',
                       'packed', 'shipped', 'ready_for_pickup', 'collected', 'cancelled')
BEGIN
  SELECT RAISE(ABORT, 'CHECK constraint failed: fulfilment_order.state');
END;
CREATE TRIGGER fulfilment_order_state_update BEFORE UPDATE OF state ON fulfilment_order
WHEN NEW.state NOT IN ('routed', 'accepted', 'rejected', 'expired', 'picking', 'picked',
                       'packed', 'shipped', 'ready_for_pickup', 'collected', 'cancelled')
BEGIN
  SELECT RAISE(ABORT, 'CHECK constraint failed: fulfilment_order.state');
END;
