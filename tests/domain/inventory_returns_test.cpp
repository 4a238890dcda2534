// Inventory: barcodes, adjustments, cycle counts, snapshots and search; returns with and
// without the original order.
#include <doctest/doctest.h>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;

namespace {

struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  Fixture() { fulfil::test::seed_catalog(*t, 3, 5); }
  Inventory& inv() { return t->inventory(); }
  StockLevel level(const std::string& sku) { return *inv().level(sku); }
  void ship(const std::string& id, std::vector<std::pair<std::string, std::int64_t>> lines) {
    auto& o = t->orders();
    REQUIRE(o.receive(fulfil::test::make_order(id, DeliveryMethod::ship, lines), ctx()));
    REQUIRE(o.accept(id, ctx()));
    REQUIRE(o.start_picking(id, ctx()));
    Package p{1, "BOX", 500, {}};
    const auto order = *o.find(id);
    for (const auto& l : order.lines) {
      REQUIRE(o.pick_item(id, l.sku, l.quantity, ctx()));
      p.items.push_back({l.line_no, l.quantity});
    }
    REQUIRE(o.complete_picking(id, ctx()));
    REQUIRE(o.pack(id, {p}, ctx()));
    REQUIRE(o.ship(id, "DHL", "T", ctx()));
  }
};

}  // namespace

TEST_CASE("barcodes of any GTIN length find the SKU; conflicts and bad codes are refused") {
  Fixture f;
  const std::string ean13 = fulfil::test::sample_gtin13(1);
  CHECK(f.inv().sku_for_barcode(ean13) == std::optional<std::string>("SKU-0001"));
  CHECK(f.inv().sku_for_barcode("0" + ean13) == std::optional<std::string>("SKU-0001"));
  CHECK_FALSE(f.inv().sku_for_barcode("4006381333932").has_value());  // bad check digit
  f.refused(
      [&] {
        return f.inv().upsert({"SKU-0002", "Two", "", {ean13}, 0}, ctx());
      },
      DomainErrc::duplicate, "already belongs to SKU SKU-0001");
  f.refused(
      [&] {
        return f.inv().upsert({"SKU-0002", "Two", "", {"4006381333932"}, 0}, ctx());
      },
      DomainErrc::invalid_argument, "check digit is 2, expected 1");
  REQUIRE(f.inv().upsert({"SKU-0002", "Two", "B2", {"96385074", "036000291452"}, 1}, ctx()));
  CHECK(f.inv().sku_for_barcode("96385074") == std::optional<std::string>("SKU-0002"));
  CHECK(f.inv().sku_for_barcode("0036000291452") == std::optional<std::string>("SKU-0002"));
  CHECK(f.inv().barcodes_of("SKU-0002").size() == 2);
  CHECK(f.level("SKU-0002").on_hand == 5);  // catalog data never touches stock
}

TEST_CASE("adjustments move the right counters and refuse what cannot be") {
  Fixture f;
  const auto events = fulfil::test::count_rows(f.t->db(), "outbox");
  REQUIRE(f.inv().adjust({"SKU-0001", AdjustmentKind::receipt, 10, ""}, ctx()));
  REQUIRE(f.inv().adjust({"SKU-0001", AdjustmentKind::correction, -3, "theft"}, ctx()));
  REQUIRE(f.inv().adjust({"SKU-0001", AdjustmentKind::damage, 2, "water"}, ctx()));
  CHECK(f.level("SKU-0001").on_hand == 12);
  CHECK(f.level("SKU-0001").unsellable == 2);
  CHECK(f.level("SKU-0001").available() == 10);
  REQUIRE(f.inv().adjust({"SKU-0001", AdjustmentKind::disposal, 2, "binned"}, ctx()));
  CHECK(f.level("SKU-0001").on_hand == 10);
  CHECK(f.level("SKU-0001").unsellable == 0);
  CHECK(fulfil::test::count_rows(f.t->db(), "outbox") - events == 4);
  f.refused(
      [&] {
        return f.inv().adjust({"SKU-0001", AdjustmentKind::disposal, 1, "x"}, ctx());
      },
      DomainErrc::insufficient_stock, "0 unsellable");
  f.refused(
      [&] {
        return f.inv().adjust({"SKU-0001", AdjustmentKind::correction, -11, "x"}, ctx());
      },
      DomainErrc::insufficient_stock, "cannot remove 11");
  f.refused(
      [&] {
        return f.inv().adjust({"SKU-0001", AdjustmentKind::receipt, 0, ""}, ctx());
      },
      DomainErrc::invalid_argument, "quantity");
  f.refused(
      [&] {
        return f.inv().adjust({"SKU-0001", AdjustmentKind::correction, 2, ""}, ctx());
      },
      DomainErrc::invalid_argument, "reason is required");
  f.refused(
      [&] {
        return f.inv().adjust({"NOPE", AdjustmentKind::receipt, 1, ""}, ctx());
      },
      DomainErrc::unknown_sku, "NOPE");
  auto totals = f.inv().ledger_totals("SKU-0001");
  CHECK(totals.on_hand == f.level("SKU-0001").on_hand);
  CHECK(totals.unsellable == f.level("SKU-0001").unsellable);
}

TEST_CASE("cycle counts post differences, all or nothing") {
  Fixture f;
  REQUIRE(f.inv().adjust({"SKU-0002", AdjustmentKind::damage, 3, "dented"}, ctx()));
  auto diffs = f.inv().post_count(
      {{{"SKU-0001", 7, std::nullopt}, {"SKU-0002", 2, std::nullopt}, {"SKU-0003", 5, 1}},
       "aisle A"},
      ctx());
  REQUIRE(diffs.has_value());
  CHECK((*diffs)[0].on_hand_delta == 2);
  CHECK((*diffs)[1].on_hand_delta == -3);
  CHECK((*diffs)[1].unsellable_delta == -1);  // unsellable shrinks with the total
  CHECK((*diffs)[2].unsellable_delta == 1);
  CHECK(f.level("SKU-0002").unsellable == 2);
  f.refused(
      [&] {
        return f.inv().post_count({{{"SKU-0001", 1, {}}, {"NOPE", 1, {}}}, ""}, ctx());
      },
      DomainErrc::unknown_sku, "NOPE");
  f.refused(
      [&] {
        return f.inv().post_count({{{"SKU-0001", 1, {}}, {"SKU-0001", 2, {}}}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "counted twice");
  f.refused(
      [&] {
        return f.inv().post_count({{{"SKU-0001", 1, 2}}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "unsellable");
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("a snapshot re-bases stock and re-applies the movements the cloud has not seen") {
  Fixture f;
  // The cloud has applied everything so far...
  const auto watermark = f.t->outbox().stats().last_seq;
  // ...then the store sells 2 and receives 4 before the snapshot arrives.
  f.ship("FO-S", {{"SKU-0001", 2}});
  REQUIRE(f.inv().adjust({"SKU-0001", AdjustmentKind::receipt, 4, ""}, ctx()));
  CHECK(f.level("SKU-0001").on_hand == 7);
  // The cloud counted 9 (it knows of a delivery the store has not booked).
  auto r = f.inv().apply_snapshot({watermark, {{"SKU-0001", 9, 1}, {"SKU-0002", 5, 0}}}, ctx());
  REQUIRE(r.has_value());
  CHECK(f.level("SKU-0001").on_hand == 9 - 2 + 4);
  CHECK(f.level("SKU-0001").unsellable == 1);
  CHECK(f.level("SKU-0002").on_hand == 5);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
  // A second snapshot at the newest watermark does not count anything twice.
  const auto now_seen = f.t->outbox().stats().last_seq;
  REQUIRE(f.inv().apply_snapshot({now_seen, {{"SKU-0001", 11, 1}}}, ctx()));
  CHECK(f.level("SKU-0001").on_hand == 11);
  f.refused(
      [&] {
        return f.inv().apply_snapshot({now_seen, {{"NOPE", 1, 0}}}, ctx());
      },
      DomainErrc::unknown_sku, "NOPE");
  f.refused(
      [&] {
        return f.inv().apply_snapshot({now_seen, {{"SKU-0001", 1, 2}}}, ctx());
      },
      DomainErrc::invalid_argument, "unsellable <= on_hand");
}

namespace {
std::vector<std::string> skus_of(const Result<StockMatches>& found) {
  REQUIRE(found.has_value());
  std::vector<std::string> out;
  for (const auto& l : found->items) out.push_back(l.sku);
  return out;
}
using Skus = std::vector<std::string>;
}  // namespace

TEST_CASE("search finds by SKU, barcode and title words; wildcards are literal") {
  Fixture f;
  REQUIRE(f.inv().upsert({"SKU-0009", "Merino 100% Wool_Scarf", "C1", {}, 0}, ctx()));
  CHECK(f.inv().search("SKU-0002", 10)->items.front().sku == "SKU-0002");
  CHECK(f.inv().search(fulfil::test::sample_gtin13(3), 10)->items.front().sku == "SKU-0003");
  CHECK(f.inv().search("merino", 10)->items.front().sku == "SKU-0009");
  CHECK(skus_of(f.inv().search("100%", 10)) == Skus{"SKU-0009"});
  CHECK(skus_of(f.inv().search("%", 10)) == Skus{"SKU-0009"});
  CHECK(f.inv().search("o_l", 10)->items.empty());  // "_" would match "ool" as a wildcard
  CHECK(f.inv().search("item", 2)->items.size() == 2);
  CHECK(f.inv().search("item", 2)->truncated);
  CHECK_FALSE(f.inv().search("item", 3)->truncated);  // the fixture has 3 "Item" SKUs
}

TEST_CASE("search matches words in any order against SKU, title and bin, or a barcode") {
  Fixture f;
  REQUIRE(f.inv().upsert({"JKT-RED-M", "Red Denim Jacket", "C04-12", {}, 0}, ctx()));
  REQUIRE(f.inv().upsert({"JKT-BLU-M", "Blue Denim Jacket", "C04-13", {}, 0}, ctx()));
  REQUIRE(f.inv().upsert({"TEE-RED-S", "Red T-Shirt", "C05-1", {}, 0}, ctx()));
  REQUIRE(f.inv().upsert({"QT-1", "It's a \"quoted\" 50% sale_item", "Z9", {}, 0}, ctx()));
  auto find = [&](const std::string& q) { return skus_of(f.inv().search(q, 10)); };
  CHECK(find("denim red") == Skus{"JKT-RED-M"});
  CHECK(find("  RED   denim  ") == Skus{"JKT-RED-M"});
  CHECK(find("red") == Skus{"JKT-RED-M", "TEE-RED-S"});
  CHECK(find("C04-1") == Skus{"JKT-BLU-M", "JKT-RED-M"});  // bins C04-1x
  CHECK(find("jacket c04-13") == Skus{"JKT-BLU-M"});
  CHECK(find("jkt m blu") == Skus{"JKT-BLU-M"});
  CHECK(find("denim green").empty());
  // A word that is a barcode names its SKU, together with the other words.
  const auto gtin = fulfil::test::sample_gtin13(2);
  CHECK(find(gtin) == Skus{"SKU-0002"});
  CHECK(find("item " + gtin) == Skus{"SKU-0002"});
  CHECK(find("jacket " + gtin).empty());
  // Hostile words are plain text.
  CHECK(find("50%") == Skus{"QT-1"});
  CHECK(find("sale_item") == Skus{"QT-1"});
  CHECK(find("%").size() == 1);
  CHECK(find("_").size() == 1);
  CHECK(find("'quoted'").empty());
  CHECK(find("it's \"quoted\"") == Skus{"QT-1"});
  CHECK(find("' OR '1'='1").empty());
  CHECK(find("\\").empty());
  CHECK(find(std::string(100, '%')).empty());
  // At most 8 words; no words at all is refused too. A search changes nothing.
  const auto before = fulfil::test::fingerprint(f.t->db());
  CHECK(find("a b c d e f g zz").empty());
  auto nine = f.inv().search("a b c d e f g h i", 10);
  REQUIRE_FALSE(nine.has_value());
  CHECK(nine.error().code == DomainErrc::invalid_argument);
  CHECK(nine.error().message.find("at most 8") != std::string::npos);
  CHECK_FALSE(f.inv().search(" \t ", 10).has_value());
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);
}

TEST_CASE("returns: dispositions move stock; with an order, quantities are bounded") {
  Fixture f;
  auto& returns = f.t->returns();
  REQUIRE(returns.receive({std::nullopt,
                           {{"SKU-0001", 1, Disposition::restock, "no receipt"},
                            {"SKU-0002", 2, Disposition::unsellable, "opened"},
                            {"SKU-0003", 1, Disposition::to_vendor, "faulty"}},
                           ""},
                          ctx()));
  CHECK(f.level("SKU-0001").on_hand == 6);
  CHECK(f.level("SKU-0002").on_hand == 7);
  CHECK(f.level("SKU-0002").unsellable == 2);
  CHECK(f.level("SKU-0003").on_hand == 5);
  CHECK(fulfil::test::count_rows(f.t->db(), "return_line") == 3);

  f.ship("FO-R", {{"SKU-0001", 2}});
  REQUIRE(returns.receive({"FO-R", {{"SKU-0001", 1, Disposition::restock, "too big"}}, ""}, ctx()));
  CHECK(returns.returned_quantity("FO-R", "SKU-0001") == 1);
  f.refused(
      [&] {
        return returns.receive({"FO-R", {{"SKU-0001", 2, Disposition::restock, ""}}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "1 already returned; cannot return 2 more");
  f.refused(
      [&] {
        return returns.receive({"FO-R", {{"SKU-0002", 1, Disposition::restock, ""}}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "SKU-0002 was not sold on order FO-R");
  f.refused(
      [&] {
        return returns.receive({"FO-NONE", {{"SKU-0001", 1, Disposition::restock, ""}}, ""}, ctx());
      },
      DomainErrc::not_found, "FO-NONE");
  f.refused(
      [&] {
        return returns.receive({std::nullopt, {{"NOPE", 1, Disposition::restock, ""}}, ""}, ctx());
      },
      DomainErrc::unknown_sku, "NOPE");
  f.refused(
      [&] {
        return returns.receive({std::nullopt, {}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "1 to 500 lines");
  REQUIRE(f.t->orders().receive(
      fulfil::test::make_order("FO-NS", DeliveryMethod::ship, {{"SKU-0001", 1}}), ctx()));
  f.refused(
      [&] {
        return returns.receive({"FO-NS", {{"SKU-0001", 1, Disposition::restock, ""}}, ""}, ctx());
      },
      DomainErrc::illegal_transition, "only shipped or collected orders");
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("a return names its order by id or by the customer's order number") {
  Fixture f;
  auto& returns = f.t->returns();
  f.ship("FO-R1", {{"SKU-0001", 2}});  // make_order's order_ref: "REF-FO-R1"
  auto by_ref =
      returns.receive({"ref-fo-r1", {{"SKU-0001", 1, Disposition::restock, "too big"}}, ""}, ctx());
  REQUIRE(by_ref.has_value());
  CHECK(by_ref->order_id == "FO-R1");
  CHECK(returns.returned_quantity("FO-R1", "SKU-0001") == 1);
  auto by_id = returns.receive({"FO-R1", {{"SKU-0001", 1, Disposition::restock, ""}}, ""}, ctx());
  REQUIRE(by_id.has_value());
  CHECK(by_id->order_id == "FO-R1");
  {
    auto s = f.t->db().prepare("SELECT count(*) FROM return_receipt WHERE order_id='FO-R1'");
    REQUIRE(s.step());
    CHECK(s.int64(0) == 2);
  }
  // The order's sold quantity bounds returns by either name.
  f.refused(
      [&] {
        return returns.receive({"REF-FO-R1", {{"SKU-0001", 1, Disposition::restock, ""}}, ""},
                               ctx());
      },
      DomainErrc::invalid_argument, "2 already returned");
  // Neither an id nor an order number: refused, nothing changed.
  for (const char* nothing : {"REF-NONE", "%", "REF-FO-R_", "' OR 1=1 --"})
    f.refused(
        [&] {
          return returns.receive({nothing, {{"SKU-0001", 1, Disposition::restock, ""}}, ""}, ctx());
        },
        DomainErrc::not_found,
        std::string("no order of this store has the id or order number '") + nothing);
  auto without =
      returns.receive({std::nullopt, {{"SKU-0002", 1, Disposition::restock, ""}}, ""}, ctx());
  REQUIRE(without.has_value());
  CHECK_FALSE(without->order_id.has_value());
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("stock adjustments scanned under one reason post together, or not at all") {
  Fixture f;  // SKU-0001..3, 5 on hand each
  const std::string barcode = fulfil::test::sample_gtin13(1);
  const auto events = fulfil::test::count_rows(f.t->db(), "outbox");
  // A refused batch changes nothing: one line too many for the shelf, an unknown code, a
  // reason the store does not have, nothing to post.
  f.refused(
      [&] {
        return f.inv().adjust_batch({"theft", "", {{"SKU-0002", 1}, {"SKU-0003", 6}}}, ctx());
      },
      DomainErrc::insufficient_stock, "lines[1]: SKU SKU-0003 has 5 on hand");
  f.refused(
      [&] {
        return f.inv().adjust_batch({"theft", "", {{"SKU-0002", 1}, {"NOPE", 1}}}, ctx());
      },
      DomainErrc::unknown_sku, "lines[1]: 'NOPE' is no SKU or barcode");
  f.refused(
      [&] {
        return f.inv().adjust_batch({"borrowed", "", {{"SKU-0002", 1}}}, ctx());
      },
      DomainErrc::invalid_argument,
      "reason 'borrowed' is not one of: damaged, found, theft, lost, display, disposed, received");
  f.refused(
      [&] {
        return f.inv().adjust_batch({"found", "", {}}, ctx());
      },
      DomainErrc::invalid_argument, "1 to 500 lines");
  f.refused(
      [&] {
        return f.inv().adjust_batch({"found", "", {{"SKU-0002", 0}}}, ctx());
      },
      DomainErrc::invalid_argument, "lines[0]: quantity");

  // Theft by barcode and by SKU; the same SKU twice is two lines.
  auto stolen = f.inv().adjust_batch(
      {"theft", "after the weekend", {{barcode, 1}, {"SKU-0002", 2}, {barcode, 1}}}, ctx());
  REQUIRE(stolen);
  CHECK(stolen->size() == 3);
  CHECK(f.level(f.t->inventory().sku_for_barcode(barcode).value()).on_hand == 3);
  CHECK(f.level("SKU-0002").on_hand == 3);
  CHECK(fulfil::test::count_rows(f.t->db(), "outbox") == events + 3);
  const auto payload = f.last_event("stock.adjusted");
  CHECK(payload["kind"] == "correction");
  CHECK(payload["quantity"] == -1);
  CHECK(payload["reason"] == "theft: after the weekend");
  CHECK(payload["actor"] == "terminal:test");
  // Damaged units become unsellable; disposing of them takes them off the books.
  REQUIRE(f.inv().adjust_batch({"damaged", "", {{"SKU-0003", 2}}}, ctx()));
  CHECK(f.level("SKU-0003").unsellable == 2);
  REQUIRE(f.inv().adjust_batch({"disposed", "", {{"SKU-0003", 2}}}, ctx()));
  CHECK(f.level("SKU-0003").on_hand == 3);
  CHECK(f.level("SKU-0003").unsellable == 0);
  REQUIRE(f.inv().adjust_batch({"found", "", {{"SKU-0001", 4}}}, ctx()));
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}
