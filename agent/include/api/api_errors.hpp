#pragma once
// Every error code the local API answers with, and its HTTP status: a closed list, which
// agent/terminal-api.openapi.yaml publishes as the ErrorCode schema (tests/docs checks
// that the two agree). Clients may switch on a code; its message is for people.
#include <span>
#include <string>
#include <string_view>

#include "domain/domain.hpp"
#include "http/http_server.hpp"

namespace fulfil::agent::api {

enum class ApiErrc {
  // 308: plain HTTP when the API is served over HTTPS (api.http redirect)
  https_required,
  // 400: the request itself is wrong
  bad_request,      // not HTTP the server can read
  malformed_json,   // the body is not a JSON object (or too deep, not UTF-8, out of range)
  unknown_field,    // a field the endpoint does not know
  invalid_query,    // a query parameter
  invalid_station,  // a station the configuration does not have
  // 401, 403: who is asking
  unauthorized,  // no token, or an unknown or revoked one
  forbidden,     // the terminal's role or station does not allow it
  // 404, 405
  not_found,
  method_not_allowed,
  // 409: the store's state does not allow it now
  illegal_transition,
  insufficient_stock,
  duplicate,
  over_scan,  // more units scanned than the line needs
  claimed,    // another terminal is picking the order
  // 413
  body_too_large,
  // 422: a value is missing or wrong
  missing_field,
  invalid_field,
  invalid_argument,
  unknown_sku,
  unknown_barcode,
  wrong_item,  // a scan of an item the order does not need
  wrong_pickup_code,
  // 423, 429, 431
  pickup_locked,
  too_many_attempts,
  headers_too_large,
  // 500, 503: not the caller's doing
  internal,
  storage,  // the database failed or the disk is full; nothing was changed
  stopping,
  printing_unavailable,
};

struct ApiErrcInfo {
  ApiErrc code;
  std::string_view name;
  unsigned status;
};

std::span<const ApiErrcInfo> api_error_codes();
std::string_view api_errc_name(ApiErrc code);
unsigned api_errc_status(ApiErrc code);

// The error response for `code`, with its status.
ApiResponse api_error(ApiErrc code, const std::string& message);
// What a domain refusal is on the wire.
ApiErrc api_errc_of(DomainErrc code);

}  // namespace fulfil::agent::api
