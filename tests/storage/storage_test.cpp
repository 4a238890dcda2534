// The SQLite store: durability settings, forward migrations from every older schema,
// refusal of newer and corrupt databases, nested transactions, and a lock held by another
// process.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <fstream>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;

namespace {

std::string pragma(Database& db, const std::string& name) {
  auto s = db.prepare("PRAGMA " + name);
  s.step();
  return s.text(0);
}

// Rows that are valid at `version`, one step of the schema's history at a time.
void insert_rows_for(Database& db, int version) {
  if (version >= 1) {
    db.exec(
        "INSERT INTO sku (sku, title, bin, on_hand, updated_at) VALUES ('OLD-1', 'Old sku', "
        "'A1', 3, 1)");
    db.exec("INSERT INTO sku_barcode (gtin, sku) VALUES ('00000000000017', 'OLD-1')");
    db.exec(
        "INSERT INTO ledger (sku, bucket, delta, kind, actor, at) VALUES ('OLD-1', "
        "'on_hand', 3, 'receipt', 'user:x', 1)");
  }
  if (version >= 2) {
    db.exec(
        "INSERT INTO fulfilment_order (id, order_ref, state, delivery_method, customer, "
        "address, currency, routed_at, accept_by, ship_by, updated_at) VALUES ('FO-OLD', "
        "'R1', 'routed', 'pickup', '{\"name\":\"Ada Old\",\"phone\":\"+1 (555) 010-9999\"}', "
        "'{}', 'EUR', 1, 9999999999999, 0, 1)");
    db.exec(
        "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor) VALUES "
        "('FO-OLD', 1, 'OLD-1', 1, 100)");
  }
  if (version >= 3)
    db.exec(
        "INSERT INTO outbox (event_id, type, subject, payload, created_at) VALUES "
        "('e-old', 'order.received', 'FO-OLD', '{}', 1)");
  // A sequence repair numbered on above the cloud's 500 with nothing pending: only
  // AUTOINCREMENT's counter knew (until migration 25).
  if (version >= 3 && version < 25)
    db.exec("UPDATE sqlite_sequence SET seq = 500 WHERE name = 'outbox'");
  if (version >= 4)
    db.exec("INSERT INTO return_receipt (id, actor, received_at) VALUES ('RT-OLD', 'user:x', 1)");
  if (version >= 6) {  // migration 17 rebuilds both tables (role 'pos'): rows must survive
    db.exec(
        "INSERT INTO terminal (id, name, role, station, token_hash, paired_at, paired_by, "
        "last_seen_at) VALUES ('T-0123abcd', 'Old counter', 'manager', 'pack-1', 'h', 1, "
        "'uid:0', 7)");
    db.exec(
        "INSERT INTO pairing_code (code_hash, role, name, station, created_at, created_by, "
        "expires_at) VALUES ('c', 'associate', 'Old tablet', '', 1, 'uid:0', 9999999999999)");
  }
}

}  // namespace

TEST_CASE("a new database uses WAL, synchronous=FULL, foreign keys, the current schema") {
  auto t = fulfil::test::open_test_store();
  CHECK(pragma(t->db(), "journal_mode") == "wal");
  CHECK(pragma(t->db(), "synchronous") == "2");
  CHECK(pragma(t->db(), "foreign_keys") == "1");
  CHECK(t->db().schema_version() == current_schema_version());
}

TEST_CASE("databases from every older schema version migrate forward with their data") {
  REQUIRE(current_schema_version() >= 5);
  for (int v = 0; v < current_schema_version(); ++v) {
    CAPTURE(v);
    fulfil::test::TempDir dir;
    const std::string path = dir.path() + "/fulfild.db";
    {
      auto raw = open_without_migrating(path);
      REQUIRE(raw.has_value());
      migrate_to(**raw, v);
      REQUIRE((*raw)->schema_version() == v);
      insert_rows_for(**raw, v);
    }
    auto opened = Store::open({path, "full", 1000}, OrderPolicy{});
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message));
    Store& store = **opened;
    CHECK(store.db().schema_version() == current_schema_version());
    if (v >= 1) {
      CHECK(store.inventory().level("OLD-1")->on_hand == 3);
      CHECK(store.inventory().sku_for_barcode("00000017") == std::optional<std::string>("OLD-1"));
      CHECK(fulfil::test::invariant_violations(store.db()).empty());
    }
    if (v >= 2) {
      // An order from before the cloud link existed still works end to end.
      auto o = store.orders().find("FO-OLD");
      REQUIRE(o.has_value());
      CHECK_FALSE(o->on_hold);
      // The queue's search finds it by the customer's name and phone: migration 014 filled
      // them in for the orders before it (rows written raw at version 14 or later have
      // none, which fulfild never writes).
      for (const char* text : {"ada old", "5550109999", "r1"}) {
        if (v >= 14) break;
        CAPTURE(text);
        auto found = store.orders().search({std::nullopt, std::nullopt, text, 10});
        REQUIRE(found.has_value());
        REQUIRE(found->orders.size() == 1);
        CHECK(found->orders[0].customer_name == "Ada Old");
      }
      CHECK(store.orders().accept("FO-OLD", ctx()).has_value());
      if (v >= 3 && v < 25) CHECK(store.outbox().last_seq() == 501);
    }
    if (v >= 3) CHECK(fulfil::test::count_rows(store.db(), "outbox") >= 1);
    if (v >= 4) CHECK(fulfil::test::count_rows(store.db(), "return_receipt") == 1);
    if (v >= 6) {
      auto t = store.terminals().find("T-0123abcd");
      REQUIRE(t.has_value());
      CHECK(t->role == Role::manager);
      CHECK(t->station == "pack-1");
      CHECK(t->last_seen_at == 7);
      CHECK(fulfil::test::count_rows(store.db(), "pairing_code") == 1);
    }
    // Movements that predate the link count as already seen by the cloud.
    if (v >= 1 && v < 5) {
      auto s = store.db().prepare("SELECT count(*) FROM ledger WHERE event_seq IS NULL");
      s.step();
      CHECK(s.int64(0) == 0);
    }
  }
}

TEST_CASE("a database from a newer fulfild is refused") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  {
    auto raw = open_without_migrating(path);
    REQUIRE(raw.has_value());
    (*raw)->exec("PRAGMA user_version=" + std::to_string(current_schema_version() + 1));
  }
  auto opened = Database::open({path, "quick", 1000});
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find("newer") != std::string::npos);
  CHECK(opened.error().message.find("downgrade") != std::string::npos);
}

TEST_CASE("a file that is not a database is refused") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  std::ofstream(path) << std::string(4096, '\x5a');
  auto opened = Database::open({path, "quick", 1000});
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find(path) != std::string::npos);
  CHECK(opened.error().message.find("not a database") != std::string::npos);
}

TEST_CASE("a database with damaged pages fails quick_check and is refused") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  {
    auto t = Store::open({path, "quick", 1000}, OrderPolicy{});
    REQUIRE(t.has_value());
    fulfil::test::seed_catalog(**t, 300, 5);
    (*t)->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 6);
    const std::string junk(4096 * 3, '\x7f');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto opened = Database::open({path, "quick", 1000});
  REQUIRE_FALSE(opened.has_value());
  CHECK((opened.error().message.find("corrupt") != std::string::npos ||
         opened.error().message.find("malformed") != std::string::npos));
  CHECK(opened.error().message.find("refusing") != std::string::npos);
}

TEST_CASE("nested transactions: an inner failure rolls back alone, the outer commits") {
  auto t = fulfil::test::open_test_store();
  fulfil::test::seed_catalog(*t, 2, 5);
  {
    Transaction outer(t->db());
    // An inner domain command that refuses leaves no trace...
    auto refused =
        t->inventory().adjust({"SKU-0001", AdjustmentKind::disposal, 1, "broken"}, ctx());
    CHECK_FALSE(refused.has_value());
    // ...while one that succeeds is kept with the outer transaction.
    REQUIRE(t->inventory().adjust({"SKU-0002", AdjustmentKind::receipt, 2, ""}, ctx()).has_value());
    outer.commit();
  }
  CHECK(t->inventory().level("SKU-0001")->on_hand == 5);
  CHECK(t->inventory().level("SKU-0002")->on_hand == 7);
  {
    Transaction outer(t->db());
    REQUIRE(t->inventory().adjust({"SKU-0002", AdjustmentKind::receipt, 2, ""}, ctx()).has_value());
    // The outer transaction is abandoned: the inner success goes with it.
  }
  CHECK(t->inventory().level("SKU-0002")->on_hand == 7);
  CHECK(fulfil::test::invariant_violations(t->db()).empty());
}

TEST_CASE("a write lock held by another process fails the command cleanly after busy_timeout") {
  auto t = fulfil::test::open_test_store();
  fulfil::test::seed_catalog(*t, 1, 5);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(t.db_path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string before = fulfil::test::fingerprint(t->db());
  auto r = t->inventory().adjust({"SKU-0001", AdjustmentKind::receipt, 1, ""}, ctx());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == DomainErrc::storage);
  CHECK(r.error().message.find("locked") != std::string::npos);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(fulfil::test::fingerprint(t->db()) == before);
  CHECK(t->inventory().adjust({"SKU-0001", AdjustmentKind::receipt, 1, ""}, ctx()).has_value());
  CHECK(t->inventory().level("SKU-0001")->on_hand == 6);
}

// --- schema versions nobody wrote, store identity, sequence repair (issue 10) ---------------

namespace {

// The file's bytes, to prove a refusal left it as it was.
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("schema versions no fulfild wrote are refused with a clear message, the file untouched") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  {
    auto db = Database::open({path, "quick", 1000});
    REQUIRE(db.has_value());
  }
  auto set_version = [&](int v) {
    auto raw = open_without_migrating(path);
    REQUIRE(raw.has_value());
    (*raw)->exec("PRAGMA user_version=" + std::to_string(v));
  };
  // -1 aborted with "basic_string: construction from null"; 5 on a current schema failed
  // half-way through migration 6 ("table pairing_code already exists").
  for (const int version : {-1, -7, 5, 1, 0}) {
    CAPTURE(version);
    set_version(version);
    const std::string before = file_bytes(path);
    auto opened = Database::open({path, "quick", 1000});
    REQUIRE_FALSE(opened.has_value());
    const std::string& m = opened.error().message;
    CHECK(m.find(path) != std::string::npos);
    CHECK(m.find("schema version " + std::to_string(version)) != std::string::npos);
    CHECK(m.find("damaged or not fulfild's") != std::string::npos);
    if (version >= 0) CHECK(m.find("unexpected: table ") != std::string::npos);
    CHECK(file_bytes(path) == before);
  }
  set_version(current_schema_version());
  CHECK(Database::open({path, "quick", 1000}).has_value());
  // A version whose tables are missing: some other program's file with a number in it.
  const std::string other = dir.path() + "/other.db";
  {
    auto raw = open_without_migrating(other);
    REQUIRE(raw.has_value());
    (*raw)->exec("CREATE TABLE notes (x); PRAGMA user_version=3");
  }
  auto opened = Database::open({other, "quick", 1000});
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().message.find("missing: ") != std::string::npos);
  CHECK(opened.error().message.find("unexpected: table notes") != std::string::npos);
}

TEST_CASE("a database belongs to the store it was first opened for") {
  fulfil::test::TempDir dir;
  const DatabaseOptions options{dir.path() + "/fulfild.db", "quick", 1000};
  std::string database_id;
  {
    auto store = Store::open(options, {}, "store-a");
    REQUIRE(store.has_value());
    database_id = (*store)->identity().database_id;
    CHECK(database_id.rfind("db-", 0) == 0);
    CHECK((*store)->identity().store_id == "store-a");
  }
  {
    auto again = Store::open(options, {}, "store-a");
    REQUIRE(again.has_value());
    CHECK((*again)->identity().database_id == database_id);  // made once, never again
  }
  const std::string before = file_bytes(options.path);
  auto other = Store::open(options, {}, "store-b");
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().message.find("belongs to store 'store-a'") != std::string::npos);
  CHECK(other.error().message.find("this fulfild is store 'store-b'") != std::string::npos);
  CHECK(file_bytes(options.path) == before);
  // Another database is another identity.
  auto fresh = Store::open({dir.path() + "/other.db", "quick", 1000}, {}, "store-a");
  REQUIRE(fresh.has_value());
  CHECK((*fresh)->identity().database_id != database_id);
}

TEST_CASE("continue_above: unsent events move above the cloud's in order, their ledger rows too") {
  auto s = fulfil::test::open_test_store();
  fulfil::test::seed_catalog(*s, 2, 10);
  auto& outbox = s->outbox();
  // Everything so far reached the cloud; two more events wait.
  auto sent = s->db().prepare("UPDATE outbox SET state='sent'");
  sent.run();
  const auto seeded = outbox.last_seq();
  REQUIRE(s->inventory().adjust({"SKU-0001", AdjustmentKind::correction, -2, "x"}, ctx()));
  REQUIRE(s->inventory().adjust({"SKU-0002", AdjustmentKind::correction, -1, "y"}, ctx()));
  const auto before = outbox.pending(10);
  REQUIRE(before.size() == 2);
  // The cloud at or below what this store has: nothing to do.
  auto none = outbox.continue_above(seeded + 2, false, 5);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
  CHECK(fulfil::test::invariant_violations(s->db()).empty());
  // The cloud holds 40 events: the two move to 41 and 42, in order, with their movements.
  auto repaired = outbox.continue_above(40, false, 7);
  REQUIRE(repaired.has_value());
  REQUIRE(repaired->has_value());
  CHECK((*repaired)->local_highest == seeded + 2);
  CHECK((*repaired)->renumbered == 2);
  CHECK((*repaired)->next_seq == 43);
  const auto after = outbox.pending(10);
  REQUIRE(after.size() == 2);
  CHECK(after[0].event_id == before[0].event_id);
  CHECK(after[0].seq == 41);
  CHECK(after[1].event_id == before[1].event_id);
  CHECK(after[1].seq == 42);
  auto ledger = s->db().prepare("SELECT count(*) FROM ledger WHERE event_seq IN (41, 42)");
  ledger.step();
  CHECK(ledger.int64(0) == 2);
  auto stale =
      s->db().prepare("SELECT count(*) FROM ledger WHERE event_seq > ? AND event_seq < 41");
  stale.bind(1, seeded);
  stale.step();
  CHECK(stale.int64(0) == 0);
  CHECK(outbox.last_repair()->detected_at == 7);
  // A conflict repairs even when the cloud is not ahead of this store's highest: the cloud
  // holds 45 of the numbers this store used (restored, then numbered on past 45).
  REQUIRE(s->inventory().adjust({"SKU-0001", AdjustmentKind::correction, -1, "z"}, ctx()));
  CHECK(outbox.last_seq() == 43);
  auto conflict = outbox.continue_above(41, true, 9);
  REQUIRE(conflict.has_value());
  REQUIRE(conflict->has_value());
  CHECK(outbox.pending(10)[0].seq == 42);
  CHECK(outbox.pending(10)[2].seq == 44);
  REQUIRE(s->inventory().adjust({"SKU-0002", AdjustmentKind::correction, -1, "w"}, ctx()));
  CHECK(outbox.last_seq() == 45);
  CHECK(fulfil::test::invariant_violations(s->db()).empty());
  // Nothing waiting and the cloud far ahead: no row carries the new floor, yet the next
  // event is numbered above it, and so is the one after (no number handed out twice).
  s->db().prepare("UPDATE outbox SET state='sent'").run();
  auto ahead = outbox.continue_above(100, false, 11);
  REQUIRE(ahead.has_value());
  REQUIRE(ahead->has_value());
  CHECK((*ahead)->renumbered == 0);
  CHECK((*ahead)->next_seq == 101);
  REQUIRE(s->inventory().adjust({"SKU-0001", AdjustmentKind::correction, -1, "v"}, ctx()));
  CHECK(outbox.last_seq() == 101);
  REQUIRE(s->inventory().adjust({"SKU-0002", AdjustmentKind::correction, -1, "u"}, ctx()));
  CHECK(outbox.last_seq() == 102);
  auto behind = outbox.continue_above(90, false, 12);
  REQUIRE(behind.has_value());
  CHECK_FALSE(behind->has_value());
  CHECK(fulfil::test::invariant_violations(s->db()).empty());
}

namespace {
// A store of 300 SKUs, checkpointed into its file; returns the root page of `table`.
std::int64_t seeded_root_page(const std::string& path, const std::string& table) {
  auto t = Store::open({path, "quick", 1000}, OrderPolicy{});
  REQUIRE(t.has_value());
  fulfil::test::seed_catalog(**t, 300, 5);
  std::int64_t root = 0;
  {
    auto s = (*t)->db().prepare("SELECT rootpage FROM sqlite_master WHERE name=?");
    s.bind(1, table);
    REQUIRE(s.step());
    root = s.int64(0);
  }  // reset: a running statement would hold the checkpoint back
  (*t)->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return root;
}

void scribble_page(const std::string& path, std::int64_t page) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>((page - 1) * 4096));
  const std::string junk(4096, '\x7f');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}
}  // namespace

TEST_CASE("integrity_check=background: start checks the feed and outbox tables, the rest later") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  scribble_page(path, seeded_root_page(path, "sku"));
  // The catalog's damage is not what start-up reads: the store starts...
  auto opened = Database::open({path, "background", 1000});
  REQUIRE_MESSAGE(opened.has_value(), opened.error().message);
  // ...and the check of the whole file, on a connection of its own, finds it.
  const auto found = check_integrity(path);
  CHECK_FALSE(found.ok);
  CHECK_MESSAGE(found.detail.find("Restore " + path) != std::string::npos, found.detail);
  opened->reset();
  // A full quick_check at start still refuses it.
  CHECK_FALSE(Database::open({path, "quick", 1000}).has_value());
}

TEST_CASE("integrity_check=background: a damaged outbox refuses to start") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  scribble_page(path, seeded_root_page(path, "outbox"));
  auto opened = Database::open({path, "background", 1000});
  REQUIRE_FALSE(opened.has_value());
  CHECK_MESSAGE(opened.error().message.find("refusing to start") != std::string::npos,
                opened.error().message);
}

TEST_CASE("check_integrity: a sound database is ok; a stop interrupts the check") {
  fulfil::test::TempDir dir;
  const std::string path = dir.path() + "/fulfild.db";
  seeded_root_page(path, "sku");
  const auto sound = check_integrity(path);
  CHECK(sound.ok);
  CHECK(sound.detail == "ok");
  const std::atomic<bool> stop{true};
  const auto stopped = check_integrity(path, &stop);
  CHECK_FALSE(stopped.ok);
  CHECK_MESSAGE(stopped.detail.find("interrupt") != std::string::npos, stopped.detail);
}
