// Forward-only schema migrations. Each step is applied in its own transaction together
// with the new user_version, so a crash mid-migration leaves the previous version intact.
// Never edit a released step: add a new one.
#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/storage.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array<const char*, 10> kMigrations = {
    // 1: catalog, inventory counters and the append-only stock ledger.
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sku (
  sku TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  bin TEXT NOT NULL DEFAULT '',
  on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  unsellable INTEGER NOT NULL DEFAULT 0 CHECK (unsellable >= 0),
  safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
  updated_at INTEGER NOT NULL
);
CREATE TABLE sku_barcode (
  gtin TEXT PRIMARY KEY,
  sku TEXT NOT NULL REFERENCES sku(sku)
);
CREATE INDEX sku_barcode_by_sku ON sku_barcode(sku);
CREATE TABLE ledger (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL REFERENCES sku(sku),
  bucket TEXT NOT NULL CHECK (bucket IN ('on_hand', 'unsellable')),
  delta INTEGER NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL,
  order_id TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX ledger_by_sku ON ledger(sku);
)sql",
    // 2: fulfilment orders, their lines, packages, reservations and history.
    R"sql(
CREATE TABLE fulfilment_order (
  id TEXT PRIMARY KEY,
  order_ref TEXT NOT NULL,
  state TEXT NOT NULL,
  delivery_method TEXT NOT NULL CHECK (delivery_method IN ('ship', 'pickup')),
  customer TEXT NOT NULL,
  address TEXT NOT NULL,
  currency TEXT NOT NULL,
  routed_at INTEGER NOT NULL,
  accept_by INTEGER NOT NULL,
  ship_by INTEGER NOT NULL,
  reject_reason TEXT NOT NULL DEFAULT '',
  carrier TEXT NOT NULL DEFAULT '',
  tracking TEXT NOT NULL DEFAULT '',
  pickup_code TEXT NOT NULL DEFAULT '',
  pickup_attempts INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX order_by_state ON fulfilment_order(state, accept_by);
CREATE TABLE order_line (
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_minor INTEGER NOT NULL,
  picked INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  reject_reason TEXT NOT NULL DEFAULT '',
  CHECK (picked >= 0 AND rejected >= 0 AND picked + rejected <= quantity),
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE reservation (
  order_id TEXT NOT NULL,
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, line_no),
  FOREIGN KEY (order_id, line_no) REFERENCES order_line(order_id, line_no)
);
CREATE TABLE package (
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  package_no INTEGER NOT NULL,
  box_type TEXT NOT NULL,
  weight_g INTEGER NOT NULL,
  PRIMARY KEY (order_id, package_no)
);
CREATE TABLE package_item (
  order_id TEXT NOT NULL,
  package_no INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, package_no, line_no),
  FOREIGN KEY (order_id, package_no) REFERENCES package(order_id, package_no)
);
CREATE TABLE order_history (
  id INTEGER PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX history_by_order ON order_history(order_id);
)sql",
    // 3: the outbox of events for the cloud; seq is the per-store sequence number.
    R"sql(
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at INTEGER
);
CREATE INDEX outbox_pending ON outbox(state, seq);
)sql",
    // 4: customer returns received at the store.
    R"sql(
CREATE TABLE return_receipt (
  id TEXT PRIMARY KEY,
  order_id TEXT REFERENCES fulfilment_order(id),
  actor TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL
);
CREATE TABLE return_line (
  return_id TEXT NOT NULL REFERENCES return_receipt(id),
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL REFERENCES sku(sku),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  disposition TEXT NOT NULL CHECK (disposition IN ('restock', 'unsellable', 'to_vendor')),
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (return_id, line_no)
);
CREATE INDEX return_by_order ON return_receipt(order_id);
)sql",
    // 5: the cloud link: commands applied from the feed (exactly once, by id), the feed
    // cursor and other sync state, orders on hold, and each ledger row's event sequence
    // (snapshot reconciliation re-applies the movements the cloud has not seen). Rows from
    // before the link existed count as seen (0).
    R"sql(
CREATE TABLE inbox (
  command_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  cursor TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected', 'deferred')),
  detail TEXT NOT NULL DEFAULT '',
  applied_at INTEGER NOT NULL
);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
ALTER TABLE fulfilment_order ADD COLUMN on_hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN event_seq INTEGER;
UPDATE ledger SET event_seq = 0;
CREATE INDEX ledger_by_event ON ledger(event_seq);
CREATE INDEX ledger_unstamped ON ledger(id) WHERE event_seq IS NULL;
)sql",
    // 6: the in-store terminals: pairing codes and paired terminals (secrets kept only as
    // SHA-256 hashes), and the audit trail of every mutation made through the local API.
    R"sql(
CREATE TABLE pairing_code (
  code_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager')),
  name TEXT NOT NULL,
  station TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE terminal (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('associate', 'manager')),
  station TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  paired_at INTEGER NOT NULL,
  paired_by TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit(at);
)sql",
    // 7: the terminals' queue reads orders oldest-routed first; without this every poll
    // sorted the whole order table.
    R"sql(
CREATE INDEX order_queue ON fulfilment_order(routed_at, id);
)sql",
    // 8: each pack desk's active session: the order its hardware scanners pick into.
    R"sql(
CREATE TABLE station_session (
  station TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES fulfilment_order(id),
  opened_by TEXT NOT NULL,
  opened_at INTEGER NOT NULL
);
)sql",
    // 9: the durable print queue. `document` holds the bytes sent to the printer, so a job
    // can be resumed after a crash and printed again by id.
    R"sql(
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
)sql",
    // 10: remote configuration from brand IT: every desired config received, its trial
    // and its outcome (the one 'active' row is layered over the local file at start).
    R"sql(
CREATE TABLE remote_config (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  key_id TEXT NOT NULL DEFAULT '',
  settings TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('received', 'trying', 'active', 'superseded',
                                       'rolled_back', 'refused')),
  reason TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX remote_config_by_state ON remote_config(state, id);
INSERT INTO remote_config (command_id, payload, state, received_at)
  SELECT 'stored-before-migration-10', value, 'received', 0 FROM sync_state
  WHERE key = 'desired_config';
DELETE FROM sync_state WHERE key = 'desired_config';
)sql",
};

}  // namespace

int current_schema_version() {
  return static_cast<int>(kMigrations.size());
}

namespace {

// The tables, indexes, views and triggers a database holds, as "type name".
std::set<std::string> schema_objects(Database& db) {
  std::set<std::string> out;
  auto s =
      db.prepare("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
  while (s.step()) out.insert(s.text(0));
  return out;
}

// Tables first (what a person recognises), then indexes and the rest.
std::string schema_objects_text(std::vector<std::string> names) {
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n.rfind("table ", 0) == 0; });
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
  return names.size() > 8 ? out + ", ..." : out;
}

}  // namespace

// Builds `version` from nothing in memory and compares the two: a user_version that was
// set by hand, or a file of another program, is caught here rather than half-way through
// a migration ("table pairing_code already exists").
std::optional<std::string> schema_mismatch(Database& db, int version) {
  auto reference = open_without_migrating(":memory:");
  if (!reference) throw StorageFailure(0, reference.error().message);
  migrate_to(**reference, version);
  const auto want = schema_objects(**reference);
  const auto have = schema_objects(db);
  std::vector<std::string> missing, unexpected;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                      std::back_inserter(unexpected));
  if (missing.empty() && unexpected.empty()) return std::nullopt;
  std::string out;
  if (!missing.empty()) out += "missing: " + schema_objects_text(missing);
  if (!unexpected.empty())
    out +=
        (out.empty() ? "" : "; ") + std::string("unexpected: ") + schema_objects_text(unexpected);
  return out;
}

void migrate_to(Database& db, int version) {
  for (int v = db.schema_version(); v < version; ++v) {
    Transaction tx(db);
    db.exec(kMigrations[static_cast<std::size_t>(v)]);
    db.exec("PRAGMA user_version=" + std::to_string(v + 1));
    tx.commit();
  }
}

}  // namespace fulfil::agent
