// libFuzzer target for what scanners send: decode_barcode and the GS1 parsers must never
// crash or hit undefined behaviour on any input, and what they accept must be consistent
// (a GTIN-14 they report is 14 digits with a valid check digit; every element's AI is
// digits).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codes/barcode.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace fulfil::drivers;
  if (auto d = decode_barcode(input)) {
    if (d->gtin14) {
      require(d->gtin14->size() == 14);
      require(normalize_gtin(*d->gtin14).has_value());
    }
    for (const auto& e : d->elements) require(digits(e.ai) && !e.title.empty());
  } else {
    require(!d.error().message.empty());
  }
  (void)parse_gs1_element_string(input);
  (void)parse_gs1_human_readable(input);
  (void)expand_upce(input);
  return 0;
}
