// kill -9 at random moments while the store works (crash_worker): afterwards the database
// opens and passes a full integrity check, every command the worker was told had committed
// is there with its one event, and nothing is half-applied or applied twice.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;

namespace {

struct Told {
  std::string op_id;
  std::string kind;
  std::string subject;
  std::int64_t seq = 0;
};

// Only whole lines: a line the kill cut short was never "told".
std::vector<Told> read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  std::vector<Told> out;
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    std::istringstream words(text.substr(at, nl - at));
    Told t;
    words >> t.op_id >> t.seq;
    const auto a = t.op_id.find('/'), b = t.op_id.rfind('/');
    if (words.fail() || a == b) FAIL("bad journal line: " << text.substr(at, nl - at));
    t.kind = t.op_id.substr(a + 1, b - a - 1);
    t.subject = t.op_id.substr(b + 1);
    out.push_back(t);
  }
  return out;
}

const std::map<std::string, std::string> kEventOf = {
    {"seed", "stock.adjusted"},
    {"receive", "order.received"},
    {"accept", "order.accepted"},
    {"reject", "order.rejected"},
    {"start", "order.picking_started"},
    {"pick", "order.item_picked"},
    {"complete", "order.picked"},
    {"pack", "order.packed"},
    {"ship", "order.shipped"},
    {"ready", "order.ready_for_pickup"},
    {"wrongcode", "order.pickup_code_rejected"},
    {"collect", "order.collected"},
    {"cancel", "order.cancelled"},
    {"return", "return.received"},
    {"adjust", "stock.adjusted"},
    {"shiprecv", "shipment.item_received"},
    {"shipclose", "shipment.received"},
    {"till", "stock.till_transaction"},
};

std::int64_t scalar(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  REQUIRE(s.step());
  return s.int64(0);
}

// A query for what must not exist: fails with the first rows it finds.
void expect_none(Database& db, const std::string& what, const std::string& sql) {
  std::string found;
  int n = 0;
  auto s = db.prepare(sql);
  while (s.step())
    if (++n <= 5) found += " " + s.text(0);
  CHECK_MESSAGE(n == 0, what << ": " << n << " found, e.g." << found);
}

// Every command the worker was told had committed has its event, at the sequence number
// journalled, of the right type and about the right order or SKU.
void check_against_journal(Store& store, const std::vector<Told>& told) {
  Database& db = store.db();
  std::int64_t previous = 0;
  int wrong = 0;
  for (const auto& t : told) {
    auto e = db.prepare(
        "SELECT type, subject, coalesce(json_extract(payload, '$.order_id'), '') FROM outbox "
        "WHERE seq=?");
    e.bind(1, t.seq);
    std::string problem;
    if (t.seq <= previous)
      problem = "not after the previous command's event " + std::to_string(previous);
    else if (!kEventOf.count(t.kind))
      problem = "unknown kind of command";
    else if (!e.step())
      problem = "its event is missing";
    else if (e.text(0) != kEventOf.at(t.kind))
      problem = "its event is " + e.text(0);
    else if (t.kind == "till"
                 ? e.text(1) != "crash-till/" + t.subject
                 : t.kind != "seed" && (t.kind == "return" ? e.text(2) : e.text(1)) != t.subject)
      problem = "its event is about " + e.text(1);
    previous = t.seq;
    if (!problem.empty() && ++wrong <= 10)
      FAIL_CHECK("told " << t.op_id << " (event " << t.seq << "): " << problem);
  }
  CHECK_MESSAGE(wrong == 0, wrong << " journalled commands do not match the outbox");
}

void check_consistency(Store& store) {
  Database& db = store.db();
  for (const auto& v : fulfil::test::invariant_violations(db)) FAIL_CHECK(v);

  // The outbox: no event twice, none lost from the middle.
  CHECK(scalar(db, "SELECT count(*) FROM outbox") ==
        scalar(db, "SELECT count(DISTINCT event_id) FROM outbox"));
  CHECK(scalar(db, "SELECT count(*) FROM outbox") ==
        scalar(db, "SELECT coalesce(max(seq), 0) FROM outbox"));
  CHECK(scalar(db, "SELECT coalesce(min(seq), 1) FROM outbox") == 1);

  // Every order: one event per history row, a history that chains from 'routed' to the
  // state it is in, and stock that left (sales) or came back (returns) exactly once.
  expect_none(db, "orders whose events and history rows differ",
              "SELECT o.id FROM fulfilment_order o WHERE "
              "(SELECT count(*) FROM order_history h WHERE h.order_id=o.id) != "
              "(SELECT count(*) FROM outbox e WHERE e.subject=o.id AND e.type LIKE 'order.%')");
  expect_none(db, "order events without an order",
              "SELECT e.seq FROM outbox e WHERE e.type LIKE 'order.%' AND NOT EXISTS "
              "(SELECT 1 FROM fulfilment_order o WHERE o.id=e.subject)");
  expect_none(db, "history rows that do not follow the previous state",
              "SELECT h.order_id FROM order_history h WHERE h.from_state != coalesce("
              "(SELECT p.to_state FROM order_history p WHERE p.order_id=h.order_id AND p.id<h.id "
              "ORDER BY p.id DESC LIMIT 1), '')");
  expect_none(db, "orders whose state is not their last history state",
              "SELECT o.id FROM fulfilment_order o WHERE o.state != (SELECT h.to_state FROM "
              "order_history h WHERE h.order_id=o.id ORDER BY h.id DESC LIMIT 1)");
  expect_none(db, "orders whose sales differ from what was picked and handed over",
              "SELECT o.id FROM fulfilment_order o WHERE "
              "(SELECT coalesce(sum(-l.delta), 0) FROM ledger l WHERE l.order_id=o.id AND "
              "l.kind=CASE o.kind WHEN 'transfer' THEN 'transfer_out' ELSE 'sale' END AND "
              "l.bucket='on_hand') != CASE WHEN o.state IN ('shipped', "
              "'collected') THEN (SELECT sum(picked) FROM order_line WHERE order_id=o.id) ELSE 0 "
              "END");
  expect_none(db, "stock leaving as a sale for a transfer, or as a transfer for a sale",
              "SELECT l.id FROM ledger l JOIN fulfilment_order o ON o.id=l.order_id WHERE "
              "l.kind IN ('sale', 'transfer_out') AND "
              "(l.kind='transfer_out') != (o.kind='transfer')");
  expect_none(db, "orders whose returned stock differs from their return lines",
              "SELECT o.id FROM fulfilment_order o WHERE "
              "(SELECT coalesce(sum(l.delta), 0) FROM ledger l WHERE l.order_id=o.id AND "
              "l.kind='return' AND l.bucket='on_hand') != (SELECT coalesce(sum(rl.quantity), 0) "
              "FROM return_receipt r JOIN return_line rl ON rl.return_id=r.id WHERE "
              "r.order_id=o.id AND rl.disposition != 'to_vendor')");

  // Every return and stock movement has exactly the event that reports it.
  expect_none(db, "returns without exactly one event",
              "SELECT r.id FROM return_receipt r WHERE (SELECT count(*) FROM outbox e WHERE "
              "e.type='return.received' AND e.subject=r.id) != 1");
  expect_none(db, "return events without a return",
              "SELECT e.seq FROM outbox e WHERE e.type='return.received' AND NOT EXISTS "
              "(SELECT 1 FROM return_receipt r WHERE r.id=e.subject)");
  expect_none(db, "stock movements without their event",
              "SELECT l.id FROM ledger l WHERE l.event_seq IS NULL OR NOT EXISTS "
              "(SELECT 1 FROM outbox e WHERE e.seq=l.event_seq)");
  expect_none(db, "stock adjustment events without a movement",
              "SELECT e.seq FROM outbox e WHERE e.type='stock.adjusted' AND NOT EXISTS "
              "(SELECT 1 FROM ledger l WHERE l.event_seq=e.seq)");
  // Every till transaction applied once: one row, one event, its lines' stock moved once.
  expect_none(db, "till transactions without exactly one event",
              "SELECT t.transaction_id FROM till_transaction t WHERE (SELECT count(*) FROM outbox "
              "e WHERE e.type='stock.till_transaction' AND e.subject=t.till_id||'/'||"
              "t.transaction_id) != 1 OR NOT EXISTS (SELECT 1 FROM outbox e WHERE "
              "e.seq=t.event_seq AND e.type='stock.till_transaction')");
  expect_none(db, "till events without a till transaction",
              "SELECT e.seq FROM outbox e WHERE e.type='stock.till_transaction' AND NOT EXISTS "
              "(SELECT 1 FROM till_transaction t WHERE t.till_id||'/'||t.transaction_id="
              "e.subject)");
  expect_none(db, "till transactions whose stock moved other than once by their lines",
              "SELECT t.transaction_id FROM till_transaction t WHERE (SELECT coalesce(sum("
              "l.delta), 0) FROM ledger l WHERE l.bucket='on_hand' AND l.reason='till '||"
              "t.till_id||' transaction '||t.transaction_id) != (CASE t.kind WHEN 'sale' THEN -1 "
              "ELSE 1 END) * (SELECT sum(json_extract(value, '$.quantity')) FROM "
              "json_each(t.result, '$.lines'))");
  expect_none(db, "adjustment movements reported by another kind of event",
              "SELECT l.id FROM ledger l JOIN outbox e ON e.seq=l.event_seq WHERE l.kind IN "
              "('receipt', 'correction', 'damage', 'disposal') AND e.type != 'stock.adjusted' "
              "AND NOT (l.kind='receipt' AND e.type='shipment.item_received')");

  // Inbound shipments: every receipt once, in the line, the ledger and the events alike.
  expect_none(db, "shipment lines whose received units differ from their ledger receipts",
              "SELECT l.shipment_id || '/' || l.sku FROM inbound_shipment_line l WHERE "
              "l.received != (SELECT coalesce(sum(delta), 0) FROM ledger g WHERE g.sku=l.sku AND "
              "g.kind='receipt' AND g.bucket='on_hand' AND g.reason='shipment ' || l.shipment_id) "
              "OR l.damaged != (SELECT coalesce(sum(delta), 0) FROM ledger g WHERE g.sku=l.sku "
              "AND g.kind='receipt' AND g.bucket='unsellable' AND g.reason='shipment ' || "
              "l.shipment_id)");
  expect_none(db, "shipments whose receipt events differ from their lines",
              "SELECT s.id FROM inbound_shipment s WHERE (SELECT coalesce(sum(json_extract("
              "e.payload, '$.quantity')), 0) FROM outbox e WHERE e.type='shipment.item_received' "
              "AND e.subject=s.id) != (SELECT coalesce(sum(received), 0) FROM "
              "inbound_shipment_line WHERE shipment_id=s.id)");
  expect_none(db, "receipt events without their movement",
              "SELECT e.seq FROM outbox e WHERE e.type='shipment.item_received' AND NOT EXISTS "
              "(SELECT 1 FROM ledger l WHERE l.event_seq=e.seq AND l.kind='receipt')");
  expect_none(db, "shipments closed other than once",
              "SELECT s.id FROM inbound_shipment s WHERE (SELECT count(*) FROM outbox e WHERE "
              "e.type='shipment.received' AND e.subject=s.id) != (s.state='closed')");
}

// A worker that never gets ready fails the round when the test kills it and reads its
// exit, so this only bounds the wait.
void wait_until_ready(const std::string& marker) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20 * fulfil::test::slowdown());
  while (::access(marker.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK_MESSAGE(::access(marker.c_str(), F_OK) == 0, "the worker never finished start-up");
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no committed command and applies none twice") {
  fulfil::test::TempDir dir;
  const std::string journal = dir.path() + "/journal";
  const unsigned seed = 20261124;
  std::mt19937 rng(seed);
  const int rounds = fulfil::test::emulated() ? 6 : 15;
  if (fulfil::test::emulated())
    MESSAGE("under FULFIL_EMULATOR: " << rounds << " rounds, kill delays x"
                                      << fulfil::test::slowdown());
  std::size_t told_before = 0;
  std::int64_t seq_before = 0;
  for (int round = 1; round <= rounds; ++round) {
    CAPTURE(seed);
    CAPTURE(round);
    const int delay_ms = (50 + static_cast<int>(rng() % 351)) * fulfil::test::slowdown();
    CAPTURE(delay_ms);
    {
      fulfil::test::ChildProcess worker(
          fulfil::test::built_program("tests/integration/crash_worker"),
          {dir.path(), journal, std::to_string(round)});
      // Every third round kills at a moment counted from the start, so start-up (open,
      // migrations, resuming half-done orders) is cut too; the others count from the moment
      // the worker says start-up is over, so they always cut real work.
      if (round % 3 != 0) wait_until_ready(dir.path() + "/ready-" + std::to_string(round));
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      worker.signal(SIGKILL);
      auto rc = worker.wait(std::chrono::seconds(10));
      REQUIRE(rc.has_value());
      // Anything else means the worker stopped on its own: a refused command, a bad resume.
      REQUIRE_MESSAGE(*rc == 128 + SIGKILL, worker.stderr_text());
    }
    auto opened = Store::open({dir.path() + "/fulfild.db", "full", 5000}, OrderPolicy{});
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message));
    Store& store = **opened;

    const auto told = read_journal(journal);
    REQUIRE(told.size() >= told_before);
    const std::int64_t last_seq = store.outbox().stats().last_seq;
    if (!told.empty()) CHECK(last_seq >= told.back().seq);
    CHECK(last_seq >= seq_before);  // nothing committed earlier went away
    check_against_journal(store, told);
    check_consistency(store);
    MESSAGE("round " << round << ": killed after " << delay_ms << " ms, "
                     << told.size() - told_before << " commands told, last seq " << last_seq);
    told_before = told.size();
    seq_before = last_seq;
  }
  // The worker got real work done: two thirds of the rounds were killed only after start-up.
  CHECK(told_before > static_cast<std::size_t>(rounds) * 2);
}
