// Retention: each kind of old record goes after its window and stays before it; what an
// open order, an unacknowledged event or a recent return needs stays; batches are bounded
// and separate transactions; a restart mid-way carries on; the ledger folds into opening
// balances with on_hand still its sum; free pages go back to the file system.
#include <doctest/doctest.h>

#include <sqlite3.h>
#include <filesystem>

#include "domain/retention.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::count_rows;
using fulfil::test::ctx;
using fulfil::test::kT0;

namespace {

constexpr std::int64_t kDay = 24LL * 3600 * 1000;

std::int64_t single_int(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  REQUIRE(s.step());
  return s.int64(0);
}

std::string ids(Database& db, const std::string& sql) {
  std::string out;
  auto s = db.prepare(sql);
  while (s.step()) out += (out.empty() ? "" : ",") + s.text(0);
  return out;
}

// Runs batches until nothing is left; the rows each batch removed.
std::vector<std::int64_t> run_all(Retention& r, std::int64_t now) {
  std::vector<std::int64_t> removed;
  for (;;) {
    auto b = r.run_batch(now);
    REQUIRE(b.has_value());
    if (!b->more) return removed;
    removed.push_back(b->removed);
    REQUIRE(removed.size() < 1000);
  }
}

void add_event(Database& db, const std::string& state, std::int64_t sent_at) {
  static int n = 0;
  auto s = db.prepare(
      "INSERT INTO outbox (event_id, type, subject, payload, created_at, state, sent_at) "
      "VALUES (?, 'test.event', 's', '{}', ?, ?, ?)");
  s.bind(1, "ev-" + std::to_string(++n)).bind(2, sent_at).bind(3, state).bind(4, sent_at).run();
}

void add_inbox(Database& db, const std::string& id, std::int64_t at) {
  db.prepare(
        "INSERT INTO inbox (command_id, type, cursor, outcome, applied_at) VALUES "
        "(?, 'test', 'c', 'applied', ?)")
      .bind(1, id)
      .bind(2, at)
      .run();
}

void add_audit(Database& db, std::int64_t at) {
  db.prepare(
        "INSERT INTO audit (at, actor, role, action, status) VALUES (?, 'terminal:test', "
        "'associate', 'POST /x', 200)")
      .bind(1, at)
      .run();
}

RetentionPolicy policy(int batch_rows = 500) {
  RetentionPolicy p;
  p.batch_rows = batch_rows;
  return p;
}

}  // namespace

TEST_CASE("sent events, inbox records and audit rows go after their window, not before") {
  auto t = fulfil::test::open_test_store();
  auto& db = t->db();
  const std::int64_t now = kT0 + 400 * kDay;
  add_event(db, "sent", now - 8 * kDay);     // 1: old, acknowledged
  add_event(db, "sent", now - 8 * kDay);     // 2
  add_event(db, "pending", now - 8 * kDay);  // 3: not acknowledged: stays
  add_event(db, "dead", now - 8 * kDay);     // 4: dead letter: stays
  add_event(db, "sent", now - 6 * kDay);     // 5: inside the window
  add_event(db, "sent", now - 9 * kDay);     // 6: old, but the newest sent: stays
  add_inbox(db, "cmd-old", now - 31 * kDay);
  add_inbox(db, "cmd-new", now - 29 * kDay);
  add_audit(db, now - 366 * kDay);
  add_audit(db, now - 364 * kDay);

  Retention r(db, policy());
  const auto removed = run_all(r, now);
  CHECK(removed == std::vector<std::int64_t>{2, 1, 1});  // events, inbox, audit
  CHECK(ids(db, "SELECT seq FROM outbox ORDER BY seq") == "3,4,5,6");
  CHECK(ids(db, "SELECT command_id FROM inbox") == "cmd-new");
  CHECK(ids(db, "SELECT at FROM audit") == std::to_string(now - 364 * kDay));
  // A second pass finds nothing, and a new event still gets a number never used.
  CHECK(run_all(r, now).empty());
  add_event(db, "pending", now);
  CHECK(single_int(db, "SELECT max(seq) FROM outbox") == 7);
}

TEST_CASE("0 days keeps a kind forever") {
  auto t = fulfil::test::open_test_store();
  add_audit(t->db(), kT0 - 3000 * kDay);
  auto p = policy();
  p.audit_days = 0;
  Retention r(t->db(), p);
  CHECK(run_all(r, kT0).empty());
  CHECK(count_rows(t->db(), "audit") == 1);
}

TEST_CASE("batches are bounded, each its own transaction, and a restart carries on") {
  auto t = fulfil::test::open_test_store();
  for (int i = 0; i < 35; ++i) add_audit(t->db(), kT0 - 400 * kDay + i);
  add_audit(t->db(), kT0);
  {
    Retention r(t->db(), policy(10));
    for (const std::int64_t left : {25, 15}) {
      auto b = r.run_batch(kT0);
      REQUIRE(b.has_value());
      CHECK(b->more);
      CHECK(b->kind == RetentionKind::audit);
      CHECK(b->removed == 10);
      CHECK_FALSE(t->db().in_transaction());
      CHECK(count_rows(t->db(), "audit") == left + 1);
    }
  }
  t.reopen();  // as a restart between two batches
  Retention r(t->db(), policy(10));
  CHECK(run_all(r, kT0) == std::vector<std::int64_t>{10, 5});
  CHECK(count_rows(t->db(), "audit") == 1);
  CHECK(run_all(r, kT0).empty());
}

namespace {

struct OrderFixture {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  OrderFixture() { fulfil::test::seed_catalog(*t, 3, 20); }
  FulfilmentOrders& orders() { return t->orders(); }

  void receive(const std::string& id, std::int64_t at) {
    auto o = fulfil::test::make_order(id, DeliveryMethod::ship, {{"SKU-0001", 1}, {"SKU-0002", 1}});
    REQUIRE(orders().receive(o, ctx(at)).has_value());
  }
  void ship(const std::string& id, std::int64_t at) {
    receive(id, at);
    REQUIRE(orders().accept(id, ctx(at)).has_value());
    REQUIRE(orders().start_picking(id, ctx(at)).has_value());
    const auto accepted = *orders().find(id);
    for (const auto& l : accepted.lines)
      REQUIRE(orders().pick_item(id, l.sku, l.quantity, ctx(at)).has_value());
    REQUIRE(orders().complete_picking(id, ctx(at)).has_value());
    Package p{1, "BOX-S", 800, {}};
    const auto picked = *orders().find(id);
    for (const auto& l : picked.lines) p.items.push_back({l.line_no, l.picked});
    REQUIRE(orders().pack(id, {p}, ctx(at)).has_value());
    REQUIRE(orders().ship(id, "DHL", "JD" + id, ctx(at)).has_value());
  }
  std::int64_t rows_of(const std::string& table, const std::string& id) {
    auto s = t->db().prepare("SELECT count(*) FROM " + table + " WHERE order_id=?");
    s.bind(1, id);
    s.step();
    return s.int64(0);
  }
};

}  // namespace

TEST_CASE("closed orders go with their rows after the window; open and recent ones stay") {
  OrderFixture f;
  f.ship("FO-OLD", kT0);
  f.receive("FO-REJ", kT0);
  REQUIRE(f.orders().reject("FO-REJ", "customer_request", ctx(kT0)).has_value());
  f.receive("FO-OPEN", kT0);
  auto accepted = f.orders().accept("FO-OPEN", ctx(kT0));
  REQUIRE_MESSAGE(accepted.has_value(), accepted.error().message);
  f.ship("FO-RECENT", kT0 + 5 * kDay);
  auto returned = f.t->returns().receive(
      {std::string("FO-OLD"), {{"SKU-0001", 1, Disposition::restock, "too small"}}, ""},
      ctx(kT0 + kDay));
  REQUIRE(returned.has_value());

  Retention r(f.t->db(), policy());
  const std::int64_t now = kT0 + 91 * kDay;  // FO-RECENT changed 86 days ago
  run_all(r, now);
  auto& db = f.t->db();
  CHECK(ids(db, "SELECT id FROM fulfilment_order ORDER BY id") == "FO-OPEN,FO-RECENT");
  for (const char* table : {"order_line", "order_history", "package", "package_item"}) {
    CHECK(f.rows_of(table, "FO-OLD") == 0);
    CHECK(f.rows_of(table, "FO-REJ") == 0);
    CHECK(f.rows_of(table, "FO-RECENT") > 0);
  }
  CHECK(f.rows_of("reservation", "FO-OPEN") == 2);
  // The return stays, with its lines, no longer pointing at the order.
  CHECK(single_int(db, "SELECT count(*) FROM return_receipt WHERE order_id IS NULL") == 1);
  CHECK(count_rows(db, "return_line") == 1);
  CHECK(fulfil::test::invariant_violations(db).empty());
  CHECK(ids(db, "PRAGMA foreign_key_check").empty());
  CHECK(f.orders().find("FO-OLD") == std::nullopt);
  CHECK(run_all(r, now).empty());
}

TEST_CASE("an order an open pick list or a pack desk holds stays, whatever its age") {
  OrderFixture f;
  f.receive("FO-PL", kT0);
  REQUIRE(f.orders().accept("FO-PL", ctx(kT0)).has_value());
  REQUIRE(f.t->pick_lists().create({"FO-PL"}, ctx(kT0)).has_value());
  // Closed behind the pick list's back (a cancel from the cloud), the list still open.
  f.t->db().exec("UPDATE fulfilment_order SET state='cancelled' WHERE id='FO-PL'");
  f.t->db().exec("DELETE FROM reservation WHERE order_id='FO-PL'");
  // And one a pack desk's session still holds.
  f.ship("FO-DESK", kT0);
  f.t->db().exec(
      "INSERT INTO station_session (station, order_id, opened_by, opened_at) VALUES "
      "('desk-1', 'FO-DESK', 'terminal:test', 0)");
  f.ship("FO-GONE", kT0);
  Retention r(f.t->db(), policy());
  run_all(r, kT0 + 1000 * kDay);
  CHECK(f.orders().find("FO-PL").has_value());
  CHECK(f.orders().find("FO-DESK").has_value());
  CHECK_FALSE(f.orders().find("FO-GONE").has_value());
}

namespace {

std::int64_t ledger_sum(Database& db, const std::string& sku) {
  auto s = db.prepare("SELECT coalesce(sum(delta),0) FROM ledger WHERE sku=? AND bucket='on_hand'");
  s.bind(1, sku);
  s.step();
  return s.int64(0);
}

void acknowledge_all(Database& db, std::int64_t at) {
  db.prepare("UPDATE outbox SET state='sent', sent_at=? WHERE state='pending'").bind(1, at).run();
}

void receive_stock(Store& store, const std::string& sku, std::int64_t qty, std::int64_t at) {
  REQUIRE(store.inventory().adjust({sku, AdjustmentKind::receipt, qty, "delivery"}, ctx(at)));
}

}  // namespace

TEST_CASE("old ledger rows fold into one opening balance per SKU; on_hand is still their sum") {
  OrderFixture f;  // 20 of each SKU received at kT0
  auto& db = f.t->db();
  f.ship("FO-1", kT0 + kDay);
  receive_stock(*f.t, "SKU-0001", 5, kT0 + 2 * kDay);
  acknowledge_all(db, kT0 + 2 * kDay);
  receive_stock(*f.t, "SKU-0001", 7, kT0 + 3 * kDay);    // its event not yet acknowledged
  receive_stock(*f.t, "SKU-0002", 4, kT0 + 300 * kDay);  // likewise
  const auto on_hand_1 = f.t->inventory().level("SKU-0001")->on_hand;
  const auto rows_before = count_rows(db, "ledger");

  const std::int64_t now = kT0 + 366 * kDay + 3 * kDay;  // the first three days are old
  Retention r(db, policy());
  const auto removed = run_all(r, now);
  CHECK_FALSE(removed.empty());
  CHECK(fulfil::test::invariant_violations(db).empty());
  CHECK(ledger_sum(db, "SKU-0001") == on_hand_1);
  CHECK(f.t->inventory().level("SKU-0001")->on_hand == on_hand_1);
  CHECK(single_int(db,
                   "SELECT count(*) FROM ledger WHERE kind='opening_balance' AND sku='SKU-0001' "
                   "AND bucket='on_hand'") == 1);
  // SKU-0001: 20 in, 1 shipped, 5 in, folded; the receipt of 7 waits for its event.
  CHECK(single_int(db,
                   "SELECT delta FROM ledger WHERE kind='opening_balance' AND sku='SKU-0001' "
                   "AND bucket='on_hand'") == 24);
  CHECK(single_int(db, "SELECT count(*) FROM ledger WHERE sku='SKU-0001' AND delta=7") == 1);
  CHECK(single_int(db, "SELECT count(*) FROM ledger WHERE sku='SKU-0002' AND delta=4") == 1);
  CHECK(count_rows(db, "ledger") < rows_before);
  CHECK(run_all(r, now).empty());

  // The cloud's snapshot, taken before it saw the receipts of 7 and 4, still has them
  // re-applied: the opening balance counts as seen, the unacknowledged rows do not.
  InventorySnapshot snap;
  snap.watermark_seq = single_int(db, "SELECT max(seq) FROM outbox WHERE state='sent'");
  snap.items = {{"SKU-0001", on_hand_1 - 7, 0}, {"SKU-0002", 20 - 1 + 4 - 4, 0}};
  auto diffs = f.t->inventory().apply_snapshot(snap, ctx(now));
  REQUIRE_MESSAGE(diffs.has_value(), diffs.error().message);
  CHECK(f.t->inventory().level("SKU-0001")->on_hand == on_hand_1);
  CHECK(f.t->inventory().level("SKU-0002")->on_hand == 23);
  CHECK(fulfil::test::invariant_violations(db).empty());

  // Once acknowledged and old, the receipt joins the same opening balance.
  acknowledge_all(db, now);
  run_all(r, now);
  CHECK(single_int(db,
                   "SELECT delta FROM ledger WHERE kind='opening_balance' AND sku='SKU-0001' "
                   "AND bucket='on_hand'") == 31);
  CHECK(single_int(db,
                   "SELECT count(*) FROM ledger WHERE sku='SKU-0001' AND kind<>'opening_balance' "
                   "AND at < " +
                       std::to_string(now - 365 * kDay)) == 0);
  CHECK(fulfil::test::invariant_violations(db).empty());
  CHECK(run_all(r, now).empty());
}

TEST_CASE("rows after the start of an open count session are not folded") {
  OrderFixture f;
  auto& db = f.t->db();
  acknowledge_all(db, kT0);
  db.exec(
      "INSERT INTO count_session (state, plan, note, start_ledger_id, created_by, "
      "created_at) VALUES ('counting', '{}', '', 2, 'terminal:test', 0)");
  Retention r(db, policy());
  run_all(r, kT0 + 400 * kDay);
  // Rows 1 and 2 (the first two SKUs' receipts) became opening balances; row 3 stays.
  CHECK(ids(db, "SELECT id FROM ledger WHERE kind='opening_balance' ORDER BY id") == "1,2");
  CHECK(ids(db, "SELECT id FROM ledger WHERE kind<>'opening_balance'") == "3");
  CHECK(fulfil::test::invariant_violations(db).empty());
}

TEST_CASE("a new database returns free pages to the file system in steps") {
  auto t = fulfil::test::open_test_store();
  auto& db = t->db();
  CHECK(single_int(db, "PRAGMA auto_vacuum") == 2);  // incremental
  const std::string big(2000, 'x');
  {
    Transaction tx(db);
    for (int i = 0; i < 2000; ++i)
      db.prepare(
            "INSERT INTO audit (at, actor, role, action, status, detail) VALUES (?, 'a', 'r', "
            "'x', 200, ?)")
          .bind(1, kT0 - 400 * kDay)
          .bind(2, big)
          .run();
    tx.commit();
  }
  Retention r(db, policy());
  run_all(r, kT0);
  CHECK(count_rows(db, "audit") == 0);
  const auto free_before = single_int(db, "PRAGMA freelist_count");
  CHECK(free_before > 500);
  const auto pages_before = single_int(db, "PRAGMA page_count");
  const auto left = r.return_free_pages(100);
  CHECK(left == free_before - 100);
  CHECK(single_int(db, "PRAGMA page_count") == pages_before - 100);
  while (r.return_free_pages(100) > 0) {
  }
  CHECK(single_int(db, "PRAGMA freelist_count") == 0);
}

TEST_CASE("till transactions go after their window, not while their event is unacknowledged") {
  auto t = fulfil::test::open_test_store();
  auto& db = t->db();
  fulfil::test::seed_catalog(*t, 1, 10);
  // `occurred` is the till's clock (part of the receipt); `at` when it reaches the store.
  auto sale = [&](const std::string& receipt, std::int64_t occurred, std::int64_t at) {
    const TillTransaction x{
        "till-1", receipt, TillKind::sale, {{"SKU-0001", TillCode::sku, 1}}, occurred};
    auto applied = t->till_sales().apply(x, ctx(at));
    REQUIRE(applied.has_value());
    return *applied;
  };
  sale("R1", kT0, kT0);
  sale("R2", kT0 + 10 * kDay, kT0 + 10 * kDay);
  acknowledge_all(db, kT0 + 11 * kDay);
  sale("R3", kT0, kT0);  // as old as R1, but the cloud has not acknowledged its event

  Retention r(db, policy());
  run_all(r, kT0 + 95 * kDay);
  CHECK(ids(db, "SELECT transaction_id FROM till_transaction ORDER BY transaction_id") == "R2,R3");
  // R2, re-sent inside its window, is still answered as the duplicate it is.
  CHECK(sale("R2", kT0 + 10 * kDay, kT0 + 95 * kDay).duplicate);
  CHECK(fulfil::test::invariant_violations(db).empty());
  RetentionPolicy forever = policy();
  forever.till_transactions_days = 0;
  Retention keep(db, forever);
  acknowledge_all(db, kT0 + 96 * kDay);
  run_all(keep, kT0 + 500 * kDay);
  CHECK(count_rows(db, "till_transaction") == 2);
}

TEST_CASE("closed stock counts and emptied pick lists go after the closed-order window") {
  OrderFixture f;
  auto& db = f.t->db();
  // Counts: one approved and one cancelled long ago, one approved lately, one still counting.
  const auto add_count = [&](int id, const char* state, std::int64_t closed_at) {
    db.prepare(
          "INSERT INTO count_session (id, state, plan, start_ledger_id, created_by, created_at, "
          "closed_at) VALUES (?, ?, '{}', 0, 'terminal:test', 0, ?)")
        .bind(1, std::int64_t{id})
        .bind(2, state)
        .bind(3, closed_at)
        .run();
    db.prepare(
          "INSERT INTO count_session_line (session_id, sku, bin, snapshot_on_hand) VALUES "
          "(?, 'SKU-0001', 'A1', 1)")
        .bind(1, std::int64_t{id})
        .run();
    db.prepare(
          "INSERT INTO count_scan (session_id, sku, round, quantity, actor, at) VALUES "
          "(?, 'SKU-0001', 1, 1, 'terminal:test', 0)")
        .bind(1, std::int64_t{id})
        .run();
  };
  add_count(1, "approved", kT0);
  add_count(2, "cancelled", kT0);
  add_count(3, "approved", kT0 + 80 * kDay);
  add_count(4, "counting", 0);
  // Pick lists: one closed long ago whose order has gone, one closed long ago whose order
  // is still kept (open), one open.
  f.ship("FO-SHIPPED", kT0);
  f.receive("FO-KEPT", kT0);
  REQUIRE(f.orders().accept("FO-KEPT", ctx(kT0)).has_value());
  db.exec(
      "INSERT INTO pick_list (id, state, created_by, created_at, closed_at) VALUES "
      "(1, 'closed', 't', 0, 0), (2, 'closed', 't', 0, 0), (3, 'open', 't', 0, NULL)");
  db.exec(
      "INSERT INTO pick_list_order (pick_list_id, tote, order_id) VALUES (1, 1, 'FO-SHIPPED'), "
      "(2, 1, 'FO-KEPT')");

  Retention r(db, policy());
  run_all(r, kT0 + 91 * kDay);
  CHECK(ids(db, "SELECT id FROM count_session ORDER BY id") == "3,4");
  CHECK(ids(db, "SELECT DISTINCT session_id FROM count_session_line ORDER BY 1") == "3,4");
  CHECK(ids(db, "SELECT DISTINCT session_id FROM count_scan ORDER BY 1") == "3,4");
  CHECK(ids(db, "SELECT id FROM pick_list ORDER BY id") == "2,3");
  CHECK(ids(db, "PRAGMA foreign_key_check").empty());
  CHECK(run_all(r, kT0 + 91 * kDay).empty());
}
