// The POS feed's domain: till sales and returns applied exactly once by (till,
// transaction), refusals that change nothing, the ledger in step, and the two file shapes.
#include <doctest/doctest.h>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;

namespace {

struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  Fixture() { fulfil::test::seed_catalog(*t, 3, 5); }
  TillSales& till() { return t->till_sales(); }
  std::int64_t on_hand(const std::string& sku) { return t->inventory().level(sku)->on_hand; }
  std::int64_t events(const std::string& type) {
    auto s = t->db().prepare("SELECT count(*) FROM outbox WHERE type=?");
    s.bind(1, type);
    s.step();
    return s.int64(0);
  }
  void ledger_matches() { CHECK(fulfil::test::invariant_violations(t->db()).empty()); }
};

TillTransaction sale(const std::string& id, std::vector<TillLine> lines) {
  return {"till-1", id, TillKind::sale, std::move(lines), fulfil::test::kT0 - 1000};
}

}  // namespace

TEST_CASE("a till sale is applied once, however often it is sent, and across a restart") {
  Fixture f;
  const auto tx = sale("R-1001", {{"SKU-0001", TillCode::sku, 2},
                                  {fulfil::test::sample_gtin13(2), TillCode::barcode, 1}});
  auto first = f.till().apply(tx, ctx());
  REQUIRE(first.has_value());
  CHECK_FALSE(first->duplicate);
  CHECK(first->lines[0].sku == "SKU-0001");
  CHECK(first->lines[0].on_hand == 3);
  CHECK(first->lines[1].sku == "SKU-0002");
  CHECK(first->lines[1].barcode == fulfil::test::sample_gtin13(2));
  CHECK(f.on_hand("SKU-0001") == 3);
  CHECK(f.on_hand("SKU-0002") == 4);
  CHECK(f.events("stock.till_transaction") == 1);
  const std::string before = fulfil::test::fingerprint(f.t->db());
  for (int retry = 0; retry < 3; ++retry) {
    auto again = f.till().apply(tx, ctx(fulfil::test::kT0 + 1000 * retry));
    REQUIRE(again.has_value());
    CHECK(again->duplicate);
    CHECK(again->event_seq == first->event_seq);
    CHECK(again->lines[0].on_hand == 3);  // the first answer, not today's figure
  }
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);
  f.t.reopen();  // a restart: the key is on disk
  auto after_restart = f.till().apply(tx, ctx());
  REQUIRE(after_restart.has_value());
  CHECK(after_restart->duplicate);
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);
  CHECK(f.events("stock.till_transaction") == 1);
  auto found = f.till().find("till-1", "R-1001");
  REQUIRE(found.has_value());
  CHECK(found->event_seq == first->event_seq);
  CHECK_FALSE(f.till().find("till-2", "R-1001").has_value());  // the key is per till
  f.ledger_matches();
}

TEST_CASE("the same transaction id on another till is another transaction") {
  Fixture f;
  REQUIRE(f.till().apply(sale("R-1", {{"SKU-0001", TillCode::sku, 1}}), ctx()));
  auto other = sale("R-1", {{"SKU-0001", TillCode::sku, 1}});
  other.till_id = "till-2";
  auto applied = f.till().apply(other, ctx());
  REQUIRE(applied.has_value());
  CHECK_FALSE(applied->duplicate);
  CHECK(f.on_hand("SKU-0001") == 3);
}

TEST_CASE("the same key with other content is refused, naming the key") {
  Fixture f;
  REQUIRE(f.till().apply(sale("R-7", {{"SKU-0001", TillCode::sku, 1}}), ctx()));
  f.refused(
      [&] {
        return f.till().apply(sale("R-7", {{"SKU-0001", TillCode::sku, 2}}), ctx());
      },
      DomainErrc::duplicate, "till-1/R-7 was already applied with other content");
  auto as_return = sale("R-7", {{"SKU-0001", TillCode::sku, 1}});
  as_return.kind = TillKind::ret;
  f.refused([&] { return f.till().apply(as_return, ctx()); }, DomainErrc::duplicate, "till-1/R-7");
}

TEST_CASE("a bad line refuses the whole transaction, naming the line and field") {
  Fixture f;
  f.refused(
      [&] {
        return f.till().apply(
            sale("R-2", {{"SKU-0001", TillCode::sku, 1}, {"NOPE", TillCode::sku, 1}}), ctx());
      },
      DomainErrc::unknown_sku, "lines[1].sku: unknown SKU 'NOPE'");
  f.refused(
      [&] {
        return f.till().apply(sale("R-2", {{"4006381333931", TillCode::barcode, 1}}), ctx());
      },
      DomainErrc::unknown_sku, "lines[0].barcode");
  f.refused(
      [&] {
        return f.till().apply(sale("R-2", {{"SKU-0001", TillCode::sku, 0}}), ctx());
      },
      DomainErrc::invalid_argument, "lines[0].quantity must be 1 to 10000");
  f.refused(
      [&] {
        return f.till().apply(sale("R-2", {{"SKU-0001", TillCode::sku, 10001}}), ctx());
      },
      DomainErrc::invalid_argument, "lines[0].quantity");
  f.refused(
      [&] {
        return f.till().apply(sale("R-2", {{"SKU\x1b[2J", TillCode::sku, 1}}), ctx());
      },
      DomainErrc::invalid_argument, "lines[0].sku contains a control character");
  f.refused(
      [&] {
        return f.till().apply(sale("R 2\n", {{"SKU-0001", TillCode::sku, 1}}), ctx());
      },
      DomainErrc::invalid_argument, "transaction_id contains a control character");
  f.refused(
      [&] {
        return f.till().apply(sale("../../etc", {{"SKU-0001", TillCode::sku, 1}}), ctx());
      },
      DomainErrc::invalid_argument, "transaction_id may hold only");
  f.refused([&] { return f.till().apply(sale("R-2", {}), ctx()); }, DomainErrc::invalid_argument,
            "lines: a till transaction needs 1 to 200 lines");
  std::vector<TillLine> many(kMaxTillLines + 1, {"SKU-0001", TillCode::sku, 1});
  f.refused([&] { return f.till().apply(sale("R-2", many), ctx()); }, DomainErrc::invalid_argument,
            "got 201");
  // Nothing was recorded for R-2: once right, it is applied.
  auto ok = f.till().apply(sale("R-2", {{"SKU-0001", TillCode::sku, 1}}), ctx());
  REQUIRE(ok.has_value());
  CHECK_FALSE(ok->duplicate);
}

TEST_CASE("a sale beyond the replica's stock empties it and reports the shortfall") {
  Fixture f;
  REQUIRE(f.t->inventory().adjust({"SKU-0003", AdjustmentKind::damage, 2, "dented"}, ctx()));
  auto out = f.till().apply(sale("R-9", {{"SKU-0003", TillCode::sku, 8}}), ctx());
  REQUIRE(out.has_value());
  CHECK(out->lines[0].shortfall == 3);
  CHECK(out->lines[0].on_hand == 0);
  CHECK(f.on_hand("SKU-0003") == 0);
  CHECK(f.t->inventory().level("SKU-0003")->unsellable == 0);
  auto e = f.t->db().prepare(
      "SELECT payload FROM outbox WHERE type='stock.till_transaction' ORDER BY seq DESC");
  REQUIRE(e.step());
  const auto payload = nlohmann::json::parse(e.text(0));
  CHECK(payload["kind"] == "sale");
  CHECK(payload["till_id"] == "till-1");
  CHECK(payload["transaction_id"] == "R-9");
  CHECK(payload["rung_up_at"] == fulfil::test::kT0 - 1000);
  CHECK(payload["lines"][0]["quantity"] == 8);
  CHECK(payload["lines"][0]["shortfall"] == 3);
  f.ledger_matches();
}

TEST_CASE("a till return puts the units back on hand, with the till as the reason") {
  Fixture f;
  TillTransaction back{"till-1", "R-10", TillKind::ret, {{"SKU-0002", TillCode::sku, 3}}, {}};
  auto out = f.till().apply(back, ctx());
  REQUIRE(out.has_value());
  CHECK(f.on_hand("SKU-0002") == 8);
  auto row = f.t->db().prepare("SELECT kind, reason, event_seq FROM ledger ORDER BY id DESC");
  REQUIRE(row.step());
  CHECK(row.text(0) == "return");
  CHECK(row.text(1) == "till till-1 transaction R-10");
  CHECK(row.int64(2) == out->event_seq);
  f.ledger_matches();
}

TEST_CASE("till files: JSON and CSV shapes, each refusal naming where") {
  using nlohmann::json;
  auto j = till_transaction_from_json(
      json::parse(
          R"({"transaction_id":"R-1","kind":"sale","lines":[{"barcode":"123","quantity":2}]})"),
      "till-9");
  REQUIRE(j.has_value());
  CHECK(j->till_id == "till-9");
  CHECK(j->lines[0].by == TillCode::barcode);
  CHECK(j->lines[0].quantity == 2);
  auto bad = [](const char* text) {
    auto r = till_transaction_from_json(json::parse(text), "t");
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK(bad(R"({"transaction_id":"R","kind":"sale","lines":[{"quantity":1}]})") ==
        "lines[0].sku: give a sku or a barcode (one of the two)");
  CHECK(bad(R"({"transaction_id":"R","kind":"gift","lines":[]})") ==
        "kind: must be sale or return, not 'gift'");
  CHECK(bad(R"({"transaction_id":"R","kind":"sale","lines":[{"sku":"A","quantity":1.5}]})") ==
        "lines[0].quantity: must be a whole number");
  CHECK(bad(R"({"transaction_id":"R","kind":"sale","lines":[],"colour":1})") ==
        "colour: unknown field");
  CHECK(bad(R"({"kind":"sale","lines":[]})") == "transaction_id: is required");

  auto c = till_transaction_from_csv(
      "\xEF\xBB\xBFtransaction_id,kind,sku_or_barcode,quantity\r\nR-5,return,SKU-0001,2\r\n"
      "R-5,return,2020000000011,1\r\n\r\n",
      "till-3");
  REQUIRE(c.has_value());
  CHECK(c->till_id == "till-3");
  CHECK(c->kind == TillKind::ret);
  CHECK(c->lines.size() == 2);
  CHECK(c->lines[1].by == TillCode::sku_or_barcode);
  auto bad_csv = [](const char* text) {
    auto r = till_transaction_from_csv(text, "t");
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK(bad_csv("sku,qty\n") ==
        "line 1: the header must be transaction_id,kind,sku_or_barcode,quantity");
  CHECK(bad_csv("transaction_id,kind,sku_or_barcode,quantity\nR,sale,A,two\n") ==
        "line 2: quantity 'two' is not a whole number");
  CHECK(bad_csv("transaction_id,kind,sku_or_barcode,quantity\nR,sale,A,1\nS,sale,B,1\n") ==
        "line 3: every row of a file is one transaction: transaction_id and kind must be those "
        "of line 2");
  CHECK(bad_csv("transaction_id,kind,sku_or_barcode,quantity\nR,sale,A\n") ==
        "line 2: 4 comma-separated values expected, got 3");
  CHECK(bad_csv("transaction_id,kind,sku_or_barcode,quantity\n") ==
        "the file has a header but no lines");
}

TEST_CASE("a CSV value is the SKU of that name if there is one, else a barcode") {
  Fixture f;
  auto c = till_transaction_from_csv(
      "transaction_id,kind,sku_or_barcode,quantity\n"
      "R-1,sale,SKU-0001,1\nR-1,sale," +
          fulfil::test::sample_gtin13(3) + ",1\n",
      "till-1");
  REQUIRE(c.has_value());
  auto out = f.till().apply(*c, ctx());
  REQUIRE(out.has_value());
  CHECK(out->lines[0].sku == "SKU-0001");
  CHECK(out->lines[1].sku == "SKU-0003");
  auto unknown = till_transaction_from_csv(
      "transaction_id,kind,sku_or_barcode,quantity\nR-2,sale,NOPE,1\n", "till-1");
  REQUIRE(unknown.has_value());
  f.refused([&] { return f.till().apply(*unknown, ctx()); }, DomainErrc::unknown_sku,
            "lines[0].sku_or_barcode: 'NOPE' is no SKU or barcode");
}
