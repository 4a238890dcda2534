-- Schema version 21: outbound transfers. The cloud asks the store to send stock to another
-- store (transfer.requested); the transfer is a fulfilment order of kind 'transfer', so it
-- is picked, packed, labelled, shipped and reserves its stock like any ship order. Its
-- customer is the receiving store (name) and its address that store's; destination_store
-- is that store's id, '' for customer orders. notes: the cloud's note for the associates.
ALTER TABLE fulfilment_order ADD COLUMN kind TEXT NOT NULL DEFAULT 'customer'
  CHECK (kind IN ('customer', 'transfer'));
ALTER TABLE fulfilment_order ADD COLUMN destination_store TEXT NOT NULL DEFAULT '';
ALTER TABLE fulfilment_order ADD COLUMN notes TEXT NOT NULL DEFAULT '';
