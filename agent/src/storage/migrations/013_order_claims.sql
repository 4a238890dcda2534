-- Schema version 13: who is picking an order. One terminal at a time holds an order being
-- picked (two associates picking the same order double-pick it); a manager can release it.
CREATE TABLE order_claim (
  order_id TEXT PRIMARY KEY REFERENCES fulfilment_order(id),
  holder TEXT NOT NULL,  -- the actor, e.g. "terminal:T-1a2b3c4d"
  claimed_at INTEGER NOT NULL
);
