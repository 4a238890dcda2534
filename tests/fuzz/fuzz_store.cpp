#include "fuzz_store.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "domain/cloud_commands.hpp"

namespace fulfil::fuzz {

using nlohmann::json;

void require(bool ok) {
  if (!ok) std::abort();
}

namespace {

std::vector<std::string>& directories() {
  static std::vector<std::string> dirs;
  return dirs;
}

json seed_page() {
  json items = json::array(), levels = json::array();
  for (int i = 1; i <= 5; ++i) {
    const std::string sku = "SKU-" + std::to_string(i);
    items.push_back({{"sku", sku},
                     {"title", "Item " + std::to_string(i)},
                     {"bin", "A1"},
                     {"barcodes", {"400000000000" + std::to_string(i)}}});
    levels.push_back({{"sku", sku}, {"on_hand", 1000}});
  }
  const json order = {
      {"id", "FO-1"},
      {"order_ref", "1001"},
      {"delivery_method", "ship"},
      {"currency", "EUR"},
      {"customer", {{"name", "A"}, {"email", "a@example.com"}, {"phone", "1"}}},
      {"address",
       {{"name", "A"},
        {"line1", "1 Road"},
        {"line2", ""},
        {"city", "Berlin"},
        {"region", ""},
        {"postcode", "10115"},
        {"country", "DE"}}},
      {"lines", {{{"line_no", 1}, {"sku", "SKU-1"}, {"quantity", 2}, {"unit_price_minor", 999}}}}};
  return json::array(
      {{{"id", "seed-1"}, {"type", "catalog.upsert"}, {"payload", {{"items", items}}}},
       {{"id", "seed-2"},
        {"type", "inventory.snapshot"},
        {"payload", {{"watermark_seq", 0}, {"items", levels}}}},
       {{"id", "seed-3"}, {"type", "order.routed"}, {"payload", order}},
       // Shipment "1": the id the HTTP fuzzer puts in every route's path.
       {{"id", "seed-4"},
        {"type", "shipment.inbound"},
        {"payload",
         {{"shipment_id", "1"},
          {"kind", "asn"},
          {"source", "Fuzz warehouse"},
          {"barcodes", {"PO-1"}},
          {"lines", {{{"sku", "SKU-2"}, {"quantity", 3}}}}}}}});
}

}  // namespace

std::unique_ptr<agent::Store> seeded_store(const char* name) {
  std::string dir =
      (std::filesystem::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
  require(::mkdtemp(dir.data()) != nullptr);
  if (directories().empty())
    std::atexit([] {
      for (const auto& d : directories()) std::filesystem::remove_all(d);
    });
  directories().push_back(dir);
  auto opened = agent::Store::open({dir + "/fulfild.db", "off", 1000}, {});
  require(opened.has_value());
  agent::CloudCommands commands(**opened);
  for (const auto& item : seed_page())
    require(commands.apply(agent::feed_command_from(item, "0"), 1).has_value());
  return std::move(*opened);
}

}  // namespace fulfil::fuzz
