#include "domain/domain.hpp"

#include <array>
#include <string>

#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array<const char*, 5> kActorKindNames = {"user", "terminal", "device", "cloud",
                                                        "system"};
static_assert(kActorKindNames.size() == static_cast<std::size_t>(Actor::Kind::system) + 1,
              "a name for every Actor::Kind");

// Stable: these are the error codes of the local API and of refused cloud commands.
constexpr std::array<std::string_view, 10> kErrcNames = {
    "not_found", "invalid_argument",  "illegal_transition", "unknown_sku", "insufficient_stock",
    "duplicate", "wrong_pickup_code", "pickup_locked",      "claimed",     "storage"};
static_assert(kErrcNames.size() == static_cast<std::size_t>(DomainErrc::storage) + 1,
              "a name for every DomainErrc");

}  // namespace

std::string Actor::str() const {
  return std::string(kActorKindNames.at(static_cast<std::size_t>(kind))) + ":" + id;
}

std::string_view errc_name(DomainErrc code) {
  return kErrcNames.at(static_cast<std::size_t>(code));
}

namespace {

// Well-formed UTF-8 (RFC 3629): no stray continuation bytes, overlong forms, surrogates or
// code points above U+10FFFF. Stored text goes into JSON events and onto printed labels;
// the JSON writer refuses anything else, so it is refused here, saying so, instead.
bool well_formed_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c < 0x80)
      n = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

Result<void> check_text(std::string_view field, std::string_view value, std::size_t max_len,
                        bool required) {
  if (required && value.empty())
    return fail(DomainErrc::invalid_argument, std::string(field) + " is required");
  if (value.size() > max_len)
    return fail(DomainErrc::invalid_argument,
                std::string(field) + " is " + std::to_string(value.size()) +
                    " bytes long; at most " + std::to_string(max_len) + " allowed");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return fail(
          DomainErrc::invalid_argument,
          std::string(field) + " contains a control character (code " + std::to_string(c) + ")");
  if (!well_formed_utf8(value))
    return fail(DomainErrc::invalid_argument, std::string(field) + " is not valid UTF-8 text");
  return {};
}

}  // namespace fulfil::agent
