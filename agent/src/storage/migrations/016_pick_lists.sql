-- Schema version 16: pick lists (waves). Several accepted orders picked in one walk of the
-- store, each into its own tote: the tote number is the order's place on the list. An
-- order is on at most one open list; a closed list is kept as the record of the walk.
CREATE TABLE pick_list (
  id INTEGER PRIMARY KEY,  -- shown as "PL-<id>"
  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  created_by TEXT NOT NULL,  -- the actor, e.g. "terminal:T-1a2b3c4d"
  created_at INTEGER NOT NULL,
  closed_at INTEGER
);
CREATE TABLE pick_list_order (
  pick_list_id INTEGER NOT NULL REFERENCES pick_list(id),
  tote INTEGER NOT NULL CHECK (tote >= 1),
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  PRIMARY KEY (pick_list_id, tote),
  UNIQUE (pick_list_id, order_id)
);
CREATE INDEX pick_list_order_by_order ON pick_list_order(order_id);
CREATE INDEX pick_list_open ON pick_list(state) WHERE state = 'open';
