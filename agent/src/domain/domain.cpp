#include "domain/domain.hpp"

#include <array>
#include <string>

#include "config/utf8.hpp"
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
  // Stored text goes into JSON events and onto labels: the JSON writer refuses anything
  // that is not UTF-8, so it is refused here, saying so, instead.
  if (!config::well_formed_utf8(value))
    return fail(DomainErrc::invalid_argument, std::string(field) + " is not valid UTF-8 text");
  return {};
}

}  // namespace fulfil::agent
