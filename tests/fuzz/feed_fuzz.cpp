// libFuzzer target for the cloud's feed (issue 10): a feed page (or a single command) of
// any bytes is parsed as the cloud link parses it, each command decoded and applied to a
// real store (SQLite in a temporary directory, a small catalog and open orders), and the
// store's books must still balance: on_hand and unsellable equal the ledger, reservations
// match the orders. A command is applied, rejected or a duplicate; nothing crashes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/cloud_commands.hpp"
#include "agent/store.hpp"
#include "config/json_input.hpp"

namespace {

using nlohmann::json;

void require(bool ok) {
  if (!ok) std::abort();
}

// The store the commands go to, made once: a catalog of five SKUs with stock and a routed
// order (commands refer to them), in a temporary directory removed at exit.
fulfil::agent::Store& store() {
  static std::unique_ptr<fulfil::agent::Store> s = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "fulfil-feed-fuzz-XXXXXX").string();
    require(::mkdtemp(dir.data()) != nullptr);
    static const std::string keep = dir;
    std::atexit([] { std::filesystem::remove_all(keep); });
    auto opened = fulfil::agent::Store::open({dir + "/fulfild.db", "off", 1000}, {});
    require(opened.has_value());
    auto& st = **opened;
    fulfil::agent::CloudCommands commands(st);
    json items = json::array(), levels = json::array();
    for (int i = 1; i <= 5; ++i) {
      const std::string sku = "SKU-" + std::to_string(i);
      items.push_back({{"sku", sku},
                       {"title", "Item " + std::to_string(i)},
                       {"bin", "A1"},
                       {"barcodes", {"400000000000" + std::to_string(i)}}});
      levels.push_back({{"sku", sku}, {"on_hand", 50}});
    }
    const json seed = {
        {"commands",
         {{{"id", "seed-1"}, {"type", "catalog.upsert"}, {"payload", {{"items", items}}}},
          {{"id", "seed-2"},
           {"type", "inventory.snapshot"},
           {"payload", {{"watermark_seq", 0}, {"items", levels}}}},
          {{"id", "seed-3"},
           {"type", "order.routed"},
           {"payload",
            {{"id", "FO-1"},
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
             {"lines",
              {{{"line_no", 1},
                {"sku", "SKU-1"},
                {"quantity", 2},
                {"unit_price_minor", 999}}}}}}}}}};
    for (const auto& item : seed["commands"])
      require(commands.apply(fulfil::agent::feed_command_from(item, "0"), 1).has_value());
    return std::move(*opened);
  }();
  return *s;
}

// The ledger and the counters agree, straight from SQL.
bool books_balance(fulfil::agent::Database& db) {
  auto s = db.prepare(
      "SELECT count(*) FROM sku WHERE on_hand != (SELECT coalesce(sum(delta),0) FROM ledger "
      "WHERE ledger.sku = sku.sku AND bucket='on_hand') OR unsellable != (SELECT "
      "coalesce(sum(delta),0) FROM ledger WHERE ledger.sku = sku.sku AND bucket='unsellable')");
  return s.step() && s.int64(0) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& st = store();
  auto parsed = fulfil::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  // A page as the feed sends it, or one command on its own.
  const json commands =
      parsed->is_object() && parsed->contains("commands") && (*parsed)["commands"].is_array()
          ? (*parsed)["commands"]
          : json::array({*parsed});
  fulfil::agent::CloudCommands apply(st);
  for (const auto& item : commands) {
    const auto command = fulfil::agent::feed_command_from(item, "fuzz");
    require(!command.id.empty());
    auto result = apply.apply(command, 1'790'000'000'000);
    require(result.has_value());  // only a database failure may leave a command unapplied
    if (result->outcome == fulfil::agent::CommandOutcome::rejected)
      require(!result->detail.empty());
  }
  require(books_balance(st.db()));
  return 0;
}
