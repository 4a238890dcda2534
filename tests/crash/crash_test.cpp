// kill -9 at random moments while the store works: afterwards the database opens, every
// command the worker was told had committed is there (with its one event), and nothing is
// half-applied or applied twice.
#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;

namespace {

struct Told {
  std::string what;
  std::string order;
  std::int64_t seq = 0;
};

std::vector<Told> read_journal(const std::string& path) {
  std::vector<Told> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    Told t;
    words >> t.what;
    if (t.what != "seeded") words >> t.order;
    words >> t.seq;
    if (!words.fail()) out.push_back(t);  // a torn last line was never "told"
  }
  return out;
}

std::string state_after(const std::string& what) {
  if (what == "received") return "routed";
  if (what == "picked-item") return "picking";
  if (what == "returned") return "";
  return what;
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no committed command and applies none twice") {
  fulfil::test::TempDir dir;
  const std::string journal = dir.path() + "/journal";
  std::mt19937 rng(20261124);
  const int rounds = fulfil::test::emulated() ? 6 : 15;
  std::size_t told_total = 0;
  for (int round = 1; round <= rounds; ++round) {
    CAPTURE(round);
    fulfil::test::ChildProcess worker(fulfil::test::built_program("tests/crash/crash_worker"),
                                      {dir.path(), journal, std::to_string(round)});
    const int ms = (50 + static_cast<int>(rng() % 350)) * fulfil::test::slowdown();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    worker.signal(SIGKILL);
    auto rc = worker.wait(std::chrono::seconds(10));
    REQUIRE(rc.has_value());
    REQUIRE_MESSAGE(*rc == 128 + SIGKILL, worker.stderr_text());

    auto opened = Store::open({dir.path() + "/fulfild.db", "full", 5000}, OrderPolicy{});
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message));
    Store& store = **opened;
    CHECK(fulfil::test::invariant_violations(store.db()).empty());

    const auto told = read_journal(journal);
    REQUIRE(told.size() >= told_total);
    told_total = told.size();
    const auto last_seq = store.outbox().stats().last_seq;
    if (!told.empty()) CHECK(last_seq >= told.back().seq);
    // The newest state the journal promises for each order is at least what the database has.
    std::map<std::string, std::string> promised;
    for (const auto& t : told)
      if (!t.order.empty() && !state_after(t.what).empty()) promised[t.order] = state_after(t.what);
    for (const auto& [order, state] : promised) {
      auto o = store.orders().find(order);
      REQUIRE_MESSAGE(o.has_value(), "told " << state << " but order " << order << " is missing");
      // The worker may have committed one more step after its last journal line, so the
      // promised state is the current one or an earlier step of the history.
      auto h =
          store.db().prepare("SELECT count(*) FROM order_history WHERE order_id=? AND to_state=?");
      h.bind(1, order).bind(2, state);
      h.step();
      CHECK_MESSAGE(h.int64(0) >= 1, order << " lost its " << state << " transition");
    }
    // Each transition in history has exactly one event; no event twice.
    auto per_order = store.db().prepare(
        "SELECT h.order_id, (SELECT count(*) FROM order_history WHERE order_id=h.order_id), "
        "(SELECT count(*) FROM outbox WHERE subject=h.order_id AND type LIKE 'order.%') "
        "FROM order_history h GROUP BY h.order_id");
    while (per_order.step()) {
      CAPTURE(per_order.text(0));
      CHECK(per_order.int64(1) == per_order.int64(2));
    }
    auto seqs = store.db().prepare(
        "SELECT count(*), count(DISTINCT event_id), max(seq) - min(seq) + 1 FROM outbox");
    seqs.step();
    CHECK(seqs.int64(0) == seqs.int64(1));
    CHECK(seqs.int64(0) == seqs.int64(2));  // no gaps: no event lost from the middle
  }
  MESSAGE(told_total << " commands journalled across " << rounds << " kills");
  CHECK(told_total > static_cast<std::size_t>(rounds));
}
