-- Schema version 18: count sessions. A manager plans a count of some bins or SKUs, any
-- number of associates count it blind by scanning, the manager reviews each line's
-- variance and approves it into the ledger. The ledger positions (the highest ledger row
-- id when the session started and when each line was last counted) let the review tell
-- movements before a line's count (part of what the shelf should have held) from those
-- after it (kept when the difference posts).
CREATE TABLE count_session (
  id INTEGER PRIMARY KEY,  -- shown as "CS-<id>"
  state TEXT NOT NULL CHECK (state IN ('counting', 'review', 'approved', 'cancelled')),
  plan TEXT NOT NULL,  -- what was asked for: JSON {"bins": [codes or prefixes], "skus": [...]}
  note TEXT NOT NULL DEFAULT '',
  start_ledger_id INTEGER NOT NULL,
  end_ledger_id INTEGER,  -- the highest ledger row id before it was approved or cancelled
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  submitted_at INTEGER,
  closed_by TEXT,
  closed_at INTEGER,
  cancel_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX count_session_open ON count_session(state) WHERE state IN ('counting', 'review');
CREATE TABLE count_session_line (
  session_id INTEGER NOT NULL REFERENCES count_session(id),
  sku TEXT NOT NULL REFERENCES sku(sku),
  bin TEXT NOT NULL,                     -- where it was when planned
  snapshot_on_hand INTEGER NOT NULL,     -- on hand when the session started
  counted INTEGER CHECK (counted IS NULL OR counted >= 0),  -- NULL: not counted yet
  counted_ledger_id INTEGER,             -- the highest ledger row id at its last count
  counted_by TEXT,
  counted_at INTEGER,
  open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),  -- takes scans
  round INTEGER NOT NULL DEFAULT 1 CHECK (round >= 1),    -- 2 after the first recount...
  posted_delta INTEGER,                  -- what approving posted to on_hand
  PRIMARY KEY (session_id, sku)
);
CREATE INDEX count_session_line_by_sku ON count_session_line(sku);
-- Every scan, with who made it: the session's audit trail.
CREATE TABLE count_scan (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES count_session(id),
  sku TEXT NOT NULL,
  round INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity >= 0),  -- 0: "none found here"
  barcode TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX count_scan_by_session ON count_scan(session_id, sku);
