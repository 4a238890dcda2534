#include "test_support.hpp"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include "codes/gtin.hpp"

namespace fulfil::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "fulfil-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestStore open_test_store(agent::OrderPolicy policy) {
  TestStore t;
  t.dir = std::make_unique<TempDir>();
  t.reopen(std::move(policy));
  return t;
}

void TestStore::reopen(agent::OrderPolicy policy) {
  store.reset();
  auto opened = agent::Store::open({db_path(), "quick", 1000}, std::move(policy));
  if (!opened) throw std::runtime_error(opened.error().message);
  store = std::move(*opened);
}

agent::CommandContext ctx(std::int64_t now) {
  return {{agent::Actor::Kind::terminal, "test"}, now};
}

std::string sample_gtin13(int i) {
  std::string body = "20" + std::to_string(2000000000 + i);
  return body + drivers::gs1_check_digit(body);
}

std::vector<std::string> seed_catalog(agent::Store& store, int skus, std::int64_t stock) {
  std::vector<std::string> out;
  for (int i = 1; i <= skus; ++i) {
    char sku[16];
    std::snprintf(sku, sizeof sku, "SKU-%04d", i);
    agent::SkuRecord r{
        sku, std::string("Item ") + sku, "A01-" + std::to_string(i % 4 + 1), {sample_gtin13(i)}, 0};
    if (auto ok = store.inventory().upsert(r, ctx()); !ok)
      throw std::runtime_error(ok.error().message);
    if (stock > 0) {
      auto ok =
          store.inventory().adjust({sku, agent::AdjustmentKind::receipt, stock, "seed"}, ctx());
      if (!ok) throw std::runtime_error(ok.error().message);
    }
    out.push_back(sku);
  }
  return out;
}

agent::FulfilmentOrder make_order(const std::string& id, agent::DeliveryMethod method,
                                  const std::vector<std::pair<std::string, std::int64_t>>& lines) {
  agent::FulfilmentOrder o;
  o.id = id;
  o.order_ref = "REF-" + id;
  o.method = method;
  o.currency = "EUR";
  o.customer = {"Jürgen Müller", "j@example.com", "+49 30 555"};
  if (method == agent::DeliveryMethod::ship)
    o.address = {"", "Hauptstraße 1", "", "Berlin", "", "10115", "DE"};
  int n = 0;
  for (const auto& [sku, qty] : lines) o.lines.push_back({++n, sku, qty, 1999, 0, 0, ""});
  return o;
}

namespace {
std::vector<std::string> query_column(sqlite3* db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    throw std::runtime_error(sqlite3_errmsg(db));
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* t = sqlite3_column_text(stmt, c);
      row += (c ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    out.push_back(row);
  }
  sqlite3_finalize(stmt);
  return out;
}
}  // namespace

std::string fingerprint(agent::Database& db, const std::set<std::string>& skip) {
  std::string out;
  for (const auto& table : query_column(
           db.handle(),
           "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
           "ORDER BY name")) {
    if (skip.count(table)) continue;
    out += "## " + table + "\n";
    for (const auto& row : query_column(db.handle(), "SELECT * FROM " + table + " ORDER BY 1, 2"))
      out += row + "\n";
  }
  return out;
}

std::int64_t count_rows(agent::Database& db, const std::string& table) {
  return std::stoll(query_column(db.handle(), "SELECT count(*) FROM " + table).at(0));
}

nlohmann::json last_event(agent::Database& db, const std::string& type) {
  auto s = db.prepare("SELECT payload FROM outbox WHERE type=? ORDER BY seq DESC LIMIT 1");
  s.bind(1, type);
  REQUIRE_MESSAGE(s.step(), "no outbox event " << type);
  return nlohmann::json::parse(s.text(0));
}

std::vector<std::string> invariant_violations(agent::Database& db) {
  std::vector<std::string> v;
  auto check = [&](const char* what, const std::string& sql) {
    for (const auto& row : query_column(db.handle(), sql))
      v.push_back(std::string(what) + ": " + row);
  };
  check("on_hand != ledger",
        "SELECT s.sku, s.on_hand, coalesce(sum(l.delta),0) FROM sku s LEFT JOIN ledger l ON "
        "l.sku=s.sku AND l.bucket='on_hand' GROUP BY s.sku HAVING s.on_hand != "
        "coalesce(sum(l.delta),0)");
  check("unsellable != ledger",
        "SELECT s.sku, s.unsellable, coalesce(sum(l.delta),0) FROM sku s LEFT JOIN ledger l ON "
        "l.sku=s.sku AND l.bucket='unsellable' GROUP BY s.sku HAVING s.unsellable != "
        "coalesce(sum(l.delta),0)");
  check("reserved != reservations",
        "SELECT s.sku, s.reserved, coalesce(sum(r.quantity),0) FROM sku s LEFT JOIN reservation "
        "r ON r.sku=s.sku GROUP BY s.sku HAVING s.reserved != coalesce(sum(r.quantity),0)");
  check("unsellable > on_hand", "SELECT sku FROM sku WHERE unsellable > on_hand");
  check("reservation on an order that holds none",
        "SELECT r.order_id FROM reservation r JOIN fulfilment_order o ON o.id=r.order_id WHERE "
        "o.state NOT IN ('accepted','picking','picked','packed','ready_for_pickup')");
  check("reservation != open quantity",
        "SELECT l.order_id, l.line_no FROM order_line l JOIN fulfilment_order o ON o.id=l.order_id "
        "LEFT JOIN reservation r ON r.order_id=l.order_id AND r.line_no=l.line_no WHERE o.state "
        "IN ('accepted','picking','picked','packed','ready_for_pickup') AND "
        "coalesce(r.quantity,0) != l.quantity - l.rejected");
  return v;
}

}  // namespace fulfil::test
