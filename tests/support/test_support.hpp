#pragma once
// Fixtures shared by the tests: a store in a temporary directory, a sample catalog and
// orders, and independent checks (straight SQL, not the domain code) of the invariants.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "domain/store.hpp"

namespace fulfil::test {

inline constexpr std::int64_t kT0 = 1'790'000'000'000;  // a fixed "now" (2026-09)

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestStore {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<agent::Store> store;
  agent::Store* operator->() { return store.get(); }
  agent::Store& operator*() { return *store; }
  std::string db_path() const { return dir->path() + "/fulfild.db"; }
  // Closes and reopens the database (as a restart would).
  void reopen(agent::OrderPolicy policy = {});
};

TestStore open_test_store(agent::OrderPolicy policy = {});

agent::CommandContext ctx(std::int64_t now = kT0);

// SKU-0001.. with one EAN-13 each (prefix 20) and `stock` units on hand.
std::vector<std::string> seed_catalog(agent::Store& store, int skus, std::int64_t stock);
std::string sample_gtin13(int i);

agent::FulfilmentOrder make_order(const std::string& id, agent::DeliveryMethod method,
                                  const std::vector<std::pair<std::string, std::int64_t>>& lines);

// Every row of every table, in a stable order: equal fingerprints mean nothing changed.
// `skip`: tables left out (the API's audit trail records refusals too).
std::string fingerprint(agent::Database& db, const std::set<std::string>& skip = {});
std::int64_t count_rows(agent::Database& db, const std::string& table);
// Violations of the stock/reservation invariants, checked with plain SQL.
std::vector<std::string> invariant_violations(agent::Database& db);

// Runs `op` (a domain command) and checks that it was refused with `code`, that the
// message contains `needle`, and that the database is exactly as it was.
template <class F>
void expect_refused(agent::Database& db, F&& op, agent::DomainErrc code,
                    const std::string& needle) {
  const std::string before = fingerprint(db);
  auto r = op();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == code);
  CHECK_MESSAGE(r.error().message.find(needle) != std::string::npos, r.error().message);
  CHECK(fingerprint(db) == before);
}

// The payload of the newest outbox event of `type` (the test fails if there is none).
nlohmann::json last_event(agent::Database& db, const std::string& type);

// What every domain test's fixture checks on its store, its member `t` (a TestStore):
// `struct Fixture : StoreChecks<Fixture> { TestStore t = ...; };`
template <class Fixture>
struct StoreChecks {
  // expect_refused on the fixture's store.
  template <class F>
  void refused(F&& op, agent::DomainErrc code, const std::string& needle) {
    expect_refused(store().db(), std::forward<F>(op), code, needle);
  }
  nlohmann::json last_event(const std::string& type) {
    return fulfil::test::last_event(store().db(), type);
  }

 private:
  agent::Store& store() { return *static_cast<Fixture&>(*this).t; }
};

}  // namespace fulfil::test
