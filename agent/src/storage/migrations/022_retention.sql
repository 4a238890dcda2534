-- Schema version 22: retention finds old rows by age without scanning whole tables (the
-- inbox by when a command was applied, the ledger by when a movement happened, closed
-- orders by their last change).
CREATE INDEX inbox_by_applied_at ON inbox(applied_at);
CREATE INDEX ledger_by_at ON ledger(at);
CREATE INDEX order_by_state_updated ON fulfilment_order(state, updated_at);
