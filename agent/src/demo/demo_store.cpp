#include "demo/demo.hpp"

#include <array>
#include <string>

#include "codes/gtin.hpp"
#include "domain/transaction.hpp"

namespace fulfil::demo {

using namespace agent;
namespace {

constexpr std::array<const char*, 10> kProducts = {
    "Merino Crew Sweater", "Linen Shirt",  "Chino Trousers", "Rain Jacket",  "Canvas Sneaker",
    "Wool Scarf",          "Leather Belt", "Cotton Tee",     "Denim Jacket", "Trail Socks 3-pack"};
constexpr std::array<const char*, 6> kColours = {"Navy", "Black", "Olive", "Sand", "Red", "Grey"};
constexpr std::array<const char*, 5> kSizes = {"XS", "S", "M", "L", "XL"};

// Names from the brand's real markets: accents, Devanagari and Bahasa must all survive.
constexpr std::array<const char*, 6> kCustomers = {"Jürgen Müller", "अनन्या शर्मा",  "Siti Nurhaliza",
                                                   "Chloé Lefèvre", "Oğuz Yılmaz", "Mary O'Brien"};
constexpr std::array<const char*, 4> kCities = {"Berlin", "München", "Hamburg", "Köln"};

std::string demo_sku(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "SKU-%05d", 10000 + i);
  return buf;
}

// Prefix 20-29 is GS1's restricted-circulation range: demo barcodes can never collide
// with a real product's.
std::string demo_gtin13(int i) {
  std::string body = "20" + std::to_string(1000000000 + i);
  return body + drivers::gs1_check_digit(body);
}

// A pickup order put on the shelf nine days before the demo started and never collected:
// past the default pickup.return_after_days, so the demo shows an overdue pickup and a
// manager can return it to stock. It goes through the real commands now (their events are
// new, so the outbox's age alarm stays quiet), then its history is moved nine days back:
// how long an order has waited is read from there.
Result<void> seed_uncollected_pickup(Store& store, std::int64_t now) {
  constexpr std::int64_t kNineDays = std::int64_t{9} * 24 * 3600 * 1000;
  const CommandContext ctx{{Actor::Kind::system, "demo-seed"}, now};
  FulfilmentOrder o;
  o.id = "FO-DEMO-0";
  o.order_ref = "W100000";
  o.method = DeliveryMethod::pickup;
  o.currency = "EUR";
  o.customer = {kCustomers[5], "customer0@example.com", "+49 30 7654321"};
  o.lines.push_back({1, demo_sku(3), 1, 4999, 0, 0, ""});
  auto& orders = store.orders();
  if (auto ok = orders.receive(o, ctx); !ok) return ok;
  if (auto ok = orders.accept(o.id, ctx); !ok) return ok;
  if (auto ok = orders.start_picking(o.id, ctx); !ok) return ok;
  if (auto ok = orders.pick_item(o.id, demo_sku(3), 1, ctx); !ok) return unexpected(ok.error());
  if (auto ok = orders.complete_picking(o.id, ctx); !ok) return ok;
  if (auto ok = orders.ready_for_pickup(o.id, "P-09", ctx); !ok) return unexpected(ok.error());
  for (const char* sql : {"UPDATE order_history SET at = at - ? WHERE order_id = ?",
                          "UPDATE fulfilment_order SET routed_at = routed_at - ? WHERE id = ?"})
    store.db().prepare(sql).bind(1, kNineDays).bind(2, o.id).run();
  return {};
}

}  // namespace

Result<void> seed_demo_store(Store& store, std::int64_t now) {
  if (store.inventory().sku_count() > 0) return {};
  const CommandContext ctx{{Actor::Kind::system, "demo-seed"}, now};
  // One transaction: a crash while seeding must not leave a partial catalog that the next
  // start would take for a seeded one (and it is one fsync instead of one per SKU).
  return commit_or_rollback(store.db(), [&]() -> Result<void> {
    for (int i = 0; i < kDemoSkuCount; ++i) {
      const std::string title = std::string(kProducts[i % kProducts.size()]) + " — " +
                                kColours[(i / 10) % kColours.size()] + ", " +
                                kSizes[(i / 60) % kSizes.size()];
      char bin[16];
      std::snprintf(bin, sizeof bin, "%c%02d-%d", 'A' + (i / 48) % 6, 1 + (i / 4) % 12, 1 + i % 4);
      SkuRecord r{demo_sku(i), title, bin, {demo_gtin13(i)}, i % 7 == 0 ? 1 : 0};
      if (i % 5 == 0)
        r.barcodes.push_back("1" + demo_gtin13(i).substr(0, 12) +
                             drivers::gs1_check_digit("1" + demo_gtin13(i).substr(0, 12)));
      if (auto ok = store.inventory().upsert(r, ctx); !ok) return ok;
      if (auto ok = store.inventory().adjust(
              {r.sku, AdjustmentKind::receipt, 2 + (i * 7) % 25, "opening stock"}, ctx);
          !ok)
        return ok;
    }
    return seed_uncollected_pickup(store, now);
  });
}

FulfilmentOrder demo_order(std::mt19937& rng, int number, std::int64_t now) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  FulfilmentOrder o;
  o.id = "FO-DEMO-" + std::to_string(number);
  o.order_ref = "W" + std::to_string(100000 + number);
  o.method = pick(3) == 0 ? DeliveryMethod::pickup : DeliveryMethod::ship;
  o.currency = "EUR";
  o.customer = {kCustomers[pick(kCustomers.size())],
                "customer" + std::to_string(number) + "@example.com", "+49 30 1234567"};
  if (o.method == DeliveryMethod::ship)
    o.address = {"",  "Hauptstraße " + std::to_string(1 + pick(120)),
                 "",  kCities[pick(kCities.size())],
                 "",  std::to_string(10000 + pick(89999)),
                 "DE"};
  o.ship_by = now + 4 * 3600 * 1000;
  const int lines = 1 + pick(3);
  for (int l = 1; l <= lines; ++l)
    o.lines.push_back(
        {l, demo_sku(pick(kDemoSkuCount)), 1 + pick(2), 1999 + 500 * pick(20), 0, 0, ""});
  return o;
}

}  // namespace fulfil::demo
