-- Schema version 9: The durable print queue. `document` holds the bytes sent to the printer, so a job
-- can be resumed after a crash and printed again by id.
CREATE TABLE print_job (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  order_id TEXT,
  station TEXT NOT NULL DEFAULT '',
  printer TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('zpl', 'pdf')),
  document BLOB NOT NULL,
  copies INTEGER NOT NULL CHECK (copies BETWEEN 1 AND 99),
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'submitted', 'printed', 'failed',
                                       'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  external_id INTEGER,
  reprint_of INTEGER,
  requested_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  printed_at INTEGER
);
CREATE INDEX print_job_waiting ON print_job(printer, state, id);
CREATE INDEX print_job_by_order ON print_job(order_id);
CREATE TABLE carrier_label (
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  package_no INTEGER NOT NULL,
  carrier TEXT NOT NULL,
  tracking TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('zpl', 'pdf')),
  document BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (order_id, package_no)
);
