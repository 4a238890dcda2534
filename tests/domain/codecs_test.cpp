// A routed order in the cloud protocol: what the cloud side encodes, the store decodes to
// the same order, for both delivery methods and with hostile text; a malformed payload is
// refused naming the field.
#include <doctest/doctest.h>

#include "domain/order_codec.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;

namespace {
void check_same(const FulfilmentOrder& a, const FulfilmentOrder& b) {
  CHECK(a.id == b.id);
  CHECK(a.order_ref == b.order_ref);
  CHECK(a.method == b.method);
  CHECK(a.currency == b.currency);
  CHECK(a.customer.name == b.customer.name);
  CHECK(a.customer.email == b.customer.email);
  CHECK(a.customer.phone == b.customer.phone);
  CHECK(a.address.name == b.address.name);
  CHECK(a.address.line1 == b.address.line1);
  CHECK(a.address.line2 == b.address.line2);
  CHECK(a.address.city == b.address.city);
  CHECK(a.address.region == b.address.region);
  CHECK(a.address.postcode == b.address.postcode);
  CHECK(a.address.country == b.address.country);
  CHECK(a.accept_by == b.accept_by);
  CHECK(a.ship_by == b.ship_by);
  CHECK(a.pickup_code == b.pickup_code);
  REQUIRE(a.lines.size() == b.lines.size());
  for (std::size_t i = 0; i < a.lines.size(); ++i) {
    CHECK(a.lines[i].line_no == b.lines[i].line_no);
    CHECK(a.lines[i].sku == b.lines[i].sku);
    CHECK(a.lines[i].quantity == b.lines[i].quantity);
    CHECK(a.lines[i].unit_price_minor == b.lines[i].unit_price_minor);
  }
}
}  // namespace

TEST_CASE("a routed order round-trips through the protocol's encoder and decoder") {
  auto ship = fulfil::test::make_order("FO-1", DeliveryMethod::ship, {{"SKU-0001", 2}});
  ship.order_ref = "#1001";
  ship.customer = {"Chloé \"Lefèvre\" <b>", "c@example.com", "+49 30 1234"};
  ship.address = {"अनन्या शर्मा", "Hauptstr. 1\\n", "c/o {x}", "München", "BY", "80331", "DE"};
  ship.accept_by = 1'700'000'000'000;
  ship.ship_by = 1'700'000'360'000;
  ship.lines.push_back({2, "SKU-0002", 1, 1999, 0, 0, ""});
  auto pickup = fulfil::test::make_order("FO-2", DeliveryMethod::pickup, {{"SKU-0003", 1}});
  pickup.pickup_code = "004211";
  pickup.address = {};  // pickup orders have no delivery address on the wire
  for (const auto& order : {ship, pickup}) {
    CAPTURE(order.id);
    const auto wire = routed_order_json(order);
    auto decoded = routed_order_from(wire);
    REQUIRE_MESSAGE(decoded.has_value(), (decoded ? "" : decoded.error()));
    check_same(*decoded, order);
    // And through the bytes the cloud sends.
    auto reparsed = routed_order_from(nlohmann::json::parse(wire.dump()));
    REQUIRE(reparsed.has_value());
    CHECK(routed_order_json(*reparsed) == wire);
  }
}

TEST_CASE("a malformed routed order is refused naming the field") {
  const auto wire =
      routed_order_json(fulfil::test::make_order("FO-3", DeliveryMethod::ship, {{"SKU-0001", 1}}));
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"/lines/0/quantity", "two", "payload.lines[0].quantity: expected an integer"},
      {"/delivery_method", "drone", "payload.delivery_method: expected \"ship\" or \"pickup\""},
      {"/customer", 7, "payload.customer: expected an object"},
      {"/lines", nlohmann::json::object(), "payload.lines: expected an array"},
      {"/id", nullptr, "payload.id: expected a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pointer);
    auto bad = wire;
    bad[nlohmann::json::json_pointer(c.pointer)] = c.value;
    auto decoded = routed_order_from(bad);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.error() == c.message);
  }
  CHECK(routed_order_from(nlohmann::json::array()).error() == "payload: expected an object");
  auto missing = wire;
  missing.erase("currency");
  CHECK(routed_order_from(missing).error() == "payload.currency: missing");
}
