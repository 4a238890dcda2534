// libFuzzer target for the cloud's feed (issue 10): a feed page (or a single command) of
// any bytes is parsed as the cloud link parses it, each command decoded and applied to a
// real store (SQLite in a temporary directory, a small catalog and an open order), and the
// store's books must still balance: on_hand and unsellable equal the ledger. A command is
// applied, rejected (with a reason) or a duplicate; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/json_input.hpp"
#include "domain/cloud_commands.hpp"
#include "domain/store.hpp"
#include "fuzz_store.hpp"

namespace {

using nlohmann::json;

using fulfil::fuzz::require;

fulfil::agent::Store& store() {
  static auto s = fulfil::fuzz::seeded_store("fulfil-feed-fuzz");
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
