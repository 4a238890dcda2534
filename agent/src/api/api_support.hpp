#pragma once
// Internal to agent/: what the terminal API's route files share — who is calling, how a
// route is registered with its role, request-body parsing that reports the first problem
// precisely, and the mapping of domain errors to HTTP.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_errors.hpp"
#include "config/settings.hpp"
#include "domain/domain.hpp"
#include "domain/store.hpp"
#include "domain/terminals.hpp"
#include "http/http_server.hpp"

namespace fulfil::agent {
class PrintSpooler;
}

namespace fulfil::agent::api {

class DeskSessions;

struct Caller {
  std::string id;  // terminal id, or "uid:N" on the Unix socket
  std::string name;
  Role role = Role::associate;
  std::string station;
  bool local = false;  // fulfilctl over the Unix socket
  Actor actor() const;
};

// Counters for /metrics (process lifetime; Prometheus handles resets).
struct ApiCounters {
  std::map<std::string, std::int64_t> scans;     // by result
  std::map<std::string, std::int64_t> requests;  // by status class, "2xx"...
  std::int64_t pairing_refused = 0;
};

using RouteHandler =
    std::function<ApiResponse(const ApiRequest&, const Caller&, const CommandContext&)>;

// What every route file is given.
struct Routes {
  Store& store;
  const config::Settings& settings;
  ApiCounters& counters;
  // Registers an authenticated route. Mutations (anything but GET) run in one transaction
  // with their audit row, then notify the cloud link and the terminals.
  std::function<void(const std::string& method, const std::string& pattern, Role min_role,
                     RouteHandler handler)>
      add;
  HttpServer& server;
  std::function<nlohmann::json()> component_health;
  std::function<std::size_t()> connected_terminals;
  std::function<void(const std::string& terminal_id)> disconnect_terminal;
  std::function<nlohmann::json()> scanners;  // each configured scanner's status
  PrintSpooler* printing = nullptr;          // null when printing is not running
  bool demo = false;
  // Pushes a message to every connected terminal (a change no outbox event announces).
  std::function<void(const nlohmann::json&)> notify_terminals;
  // How long each station session outlives the terminal that opened it.
  DeskSessions* desk_sessions = nullptr;
};

void add_order_routes(Routes& routes);
void add_store_routes(Routes& routes);
void add_terminal_routes(Routes& routes);
void add_ui_routes(Routes& routes);
void add_station_routes(Routes& routes);
void add_print_routes(Routes& routes);
void add_config_routes(Routes& routes);
void add_pick_list_routes(Routes& routes);
void add_capacity_routes(Routes& routes);
void add_shipment_routes(Routes& routes);
void add_pos_routes(Routes& routes);
void add_count_session_routes(Routes& routes);

// Documents a workflow step prints by itself at the caller's station: {"jobs": [...],
// "problems": ["packing_slip: station desk-1 has no printer for packing_slip", ...]}.
nlohmann::json print_for_step(Routes& r, const std::vector<std::string>& kinds,
                              const std::string& order_id, const Caller& caller,
                              const CommandContext& ctx);

nlohmann::json print_job_json(const PrintJob& job);

// Picks one unit by barcode into an order, for the terminal's scan field and for the
// station's hardware scanners alike: wrong items and over-scans refused with their own
// codes. Runs inside the caller's transaction.
ApiResponse scan_into_order(Routes& r, const std::string& order_id, const std::string& barcode,
                            const Caller& caller, const CommandContext& ctx);

ApiResponse json_response(const nlohmann::json& body, unsigned status = 200);
ApiResponse domain_error(const DomainError& error);
// The `limit` query parameter, clamped to 1..1000; `fallback` when absent.
Expected<std::int64_t, ApiResponse> query_limit(const ApiRequest& request, std::int64_t fallback);
// An integer query parameter within [min, max]; 0 when absent.
Expected<std::int64_t, ApiResponse> query_integer(const ApiRequest& request, const char* key,
                                                  std::int64_t min, std::int64_t max);
// Milliseconds since 1970 up to the year 9999: the bound of a time in a query.
inline constexpr std::int64_t kMaxTimeMs = 253402300799999;

// A JSON object from a request body (or nested in one). Reads fields by name; the first
// problem (malformed JSON, an unknown field, a missing or mistyped value) is kept and
// becomes a 400/422 response naming the field.
class Body {
 public:
  Body(const ApiRequest& request, std::initializer_list<const char*> allowed);
  Body(const nlohmann::json& object, std::initializer_list<const char*> allowed, std::string where);
  explicit operator bool() const { return !error_; }
  ApiResponse error() const { return *error_; }

  std::string text(const char* key, bool required, std::size_t max_len = 200);
  std::int64_t integer(const char* key, bool required, std::int64_t min, std::int64_t max,
                       std::int64_t fallback = 0);
  bool has(const char* key) const { return doc_.contains(key); }
  // Present with a value other than null (an optional field that was given).
  bool given(const char* key) const {
    auto it = doc_.find(key);
    return it != doc_.end() && !it->is_null();
  }
  bool boolean(const char* key, bool required, bool fallback = false);
  // The elements of an array field (empty when absent or on error).
  std::vector<nlohmann::json> array(const char* key, bool required, std::size_t max_items);
  // An object field (an empty object when absent or on error).
  nlohmann::json object(const char* key, bool required);
  // Copies a nested object's first problem into this body; returns whether it had none.
  bool take(const Body& nested);

 private:
  void check_fields(std::initializer_list<const char*> allowed);
  // The field's value, or nullptr when absent or null (then a required one is an error).
  const nlohmann::json* field(const char* key, bool required);
  std::string name(const char* key) const { return "field '" + where_ + key + "'"; }
  void fail(ApiErrc code, const std::string& message);
  nlohmann::json doc_ = nlohmann::json::object();
  std::string where_;
  std::optional<ApiResponse> error_;
};

}  // namespace fulfil::agent::api
