#include "api/api_errors.hpp"

#include <array>

namespace fulfil::agent::api {
namespace {

using E = ApiErrc;
constexpr auto kCodes = std::to_array<ApiErrcInfo>({
    {E::https_required, "https_required", 308},
    {E::bad_request, "bad_request", 400},
    {E::malformed_json, "malformed_json", 400},
    {E::unknown_field, "unknown_field", 400},
    {E::invalid_query, "invalid_query", 400},
    {E::invalid_station, "invalid_station", 400},
    {E::unauthorized, "unauthorized", 401},
    {E::forbidden, "forbidden", 403},
    {E::not_found, "not_found", 404},
    {E::method_not_allowed, "method_not_allowed", 405},
    {E::illegal_transition, "illegal_transition", 409},
    {E::insufficient_stock, "insufficient_stock", 409},
    {E::duplicate, "duplicate", 409},
    {E::over_scan, "over_scan", 409},
    {E::claimed, "claimed", 409},
    {E::body_too_large, "body_too_large", 413},
    {E::missing_field, "missing_field", 422},
    {E::invalid_field, "invalid_field", 422},
    {E::invalid_argument, "invalid_argument", 422},
    {E::unknown_sku, "unknown_sku", 422},
    {E::unknown_barcode, "unknown_barcode", 422},
    {E::wrong_item, "wrong_item", 422},
    {E::wrong_pickup_code, "wrong_pickup_code", 422},
    {E::pickup_locked, "pickup_locked", 423},
    {E::too_many_attempts, "too_many_attempts", 429},
    {E::headers_too_large, "headers_too_large", 431},
    {E::internal, "internal", 500},
    {E::storage, "storage", 503},
    {E::stopping, "stopping", 503},
    {E::printing_unavailable, "printing_unavailable", 503},
});

// The table is indexed by the enum: every code once, in declaration order.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kCodes.size(); ++i)
    if (static_cast<std::size_t>(kCodes[i].code) != i) return false;
  return kCodes.size() == static_cast<std::size_t>(E::printing_unavailable) + 1;
}
static_assert(in_enum_order());

}  // namespace

std::span<const ApiErrcInfo> api_error_codes() {
  return kCodes;
}

std::string_view api_errc_name(ApiErrc code) {
  return kCodes[static_cast<std::size_t>(code)].name;
}

unsigned api_errc_status(ApiErrc code) {
  return kCodes[static_cast<std::size_t>(code)].status;
}

ApiResponse api_error(ApiErrc code, const std::string& message) {
  return http_error(api_errc_status(code), std::string(api_errc_name(code)), message);
}

ApiErrc api_errc_of(DomainErrc code) {
  switch (code) {
    case DomainErrc::not_found:
      return E::not_found;
    case DomainErrc::invalid_argument:
      return E::invalid_argument;
    case DomainErrc::illegal_transition:
      return E::illegal_transition;
    case DomainErrc::unknown_sku:
      return E::unknown_sku;
    case DomainErrc::insufficient_stock:
      return E::insufficient_stock;
    case DomainErrc::duplicate:
      return E::duplicate;
    case DomainErrc::wrong_pickup_code:
      return E::wrong_pickup_code;
    case DomainErrc::pickup_locked:
      return E::pickup_locked;
    case DomainErrc::claimed:
      return E::claimed;
    case DomainErrc::storage:
      return E::storage;
  }
  return E::internal;
}

}  // namespace fulfil::agent::api
