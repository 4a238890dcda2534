// libFuzzer target for what a till drops into the POS feed's folder (and posts to the
// API): a file of any bytes, read as CSV or JSON by its first byte (even: CSV, odd:
// JSON), never crashes; what the codec accepts is applied to a real store, where it is
// refused with a message or applied once (a second apply is a duplicate of the first),
// and the stock and the ledger agree after every input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/json_input.hpp"
#include "domain/store.hpp"
#include "domain/till_sales.hpp"
#include "fuzz_store.hpp"

namespace {

using fulfil::fuzz::require;
using namespace fulfil::agent;

Store& store() {
  static auto s = fulfil::fuzz::seeded_store("fulfil-till-fuzz");
  return *s;
}

bool ledger_agrees(Store& s) {
  auto q = s.db().prepare(
      "SELECT count(*) FROM sku WHERE on_hand != (SELECT coalesce(sum(delta), 0) FROM ledger l "
      "WHERE l.sku=sku.sku AND l.bucket='on_hand')");
  q.step();
  return q.int64(0) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  fulfil::Expected<TillTransaction, std::string> parsed =
      fulfil::unexpected(std::string("not read"));
  if (data[0] % 2 == 0) {
    parsed = till_transaction_from_csv(text, "till-1");
  } else if (auto doc = fulfil::parse_json(text)) {
    parsed = till_transaction_from_json(*doc, "till-1");
  }
  if (!parsed) {
    require(!parsed.error().empty());
    return 0;
  }
  Store& s = store();
  const CommandContext ctx{{Actor::Kind::device, "fuzz"}, 1};
  auto first = s.till_sales().apply(*parsed, ctx);
  if (first) {
    auto again = s.till_sales().apply(*parsed, ctx);
    require(again.has_value() && again->duplicate && again->event_seq == first->event_seq);
  } else {
    require(!first.error().message.empty());
  }
  require(ledger_agrees(s));
  return 0;
}
