-- Schema version 12: where a pickup order's bag is staged (the shelf named when it was
-- made ready for pickup, printed on its shelf label; '' for none), and each package's own
-- tracking number (a shipment of several parcels has one per parcel; '' until shipped or
-- when the carrier gave one number for the order, which fulfilment_order.tracking keeps).
ALTER TABLE fulfilment_order ADD COLUMN pickup_shelf TEXT NOT NULL DEFAULT '';
ALTER TABLE package ADD COLUMN tracking TEXT NOT NULL DEFAULT '';
