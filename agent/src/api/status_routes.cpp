#include "api/status_routes.hpp"

#include <nlohmann/json.hpp>

#include "api/api_errors.hpp"

namespace fulfil::agent {
namespace {
ApiResponse health(Store& store, const config::Settings& settings, const char* version,
                   std::int64_t started, const std::function<nlohmann::json()>& extra);
}  // namespace

void add_status_routes(HttpServer& api, Store& store, const config::Settings& settings,
                       const char* version, std::function<nlohmann::json()> extra) {
  const std::int64_t started = now_ms();
  api.route("GET", "/health", [&store, &settings, version, started, extra](const ApiRequest&) {
    try {
      return health(store, settings, version, started, extra);
    } catch (const StorageFailure& e) {
      return api::api_error(api::ApiErrc::storage, storage_failure_message(e));
    }
  });
}

namespace {

ApiResponse health(Store& store, const config::Settings& settings, const char* version,
                   std::int64_t started, const std::function<nlohmann::json()>& extra) {
  const auto outbox = store.outbox().stats();
  const std::int64_t now = now_ms();
  nlohmann::json body = {{"status", "ok"},
                         {"version", version},
                         {"store_id", settings.store.id},
                         {"uptime_s", (now - started) / 1000},
                         {"orders", store.orders().count_by_state()},
                         {"outbox",
                          {{"pending", outbox.pending},
                           {"dead", outbox.dead},
                           {"oldest_pending_age_s",
                            outbox.oldest_pending_at ? (now - outbox.oldest_pending_at) / 1000 : 0},
                           {"last_seq", outbox.last_seq}}},
                         {"inventory", {{"skus", store.inventory().sku_count()}}}};
  if (extra) body.update(extra());
  body["status"] = overall_status(body);
  ApiResponse r;
  r.status = body["status"] == "failing" ? 503 : 200;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace

// `failing` when a part says it cannot do its job (a full disk: changes are refused),
// `degraded` when any part has an alarm (a printer out of labels, events piling up, the
// cloud unreachable for long), else `ok`. A monitor or load balancer reads the code: 503
// for failing.
std::string overall_status(const nlohmann::json& health) {
  bool alarms = false;
  for (const auto& [name, part] : health.items()) {
    if (!part.is_object()) continue;
    if (part.value("failing", false)) return "failing";
    if (part.contains("alarms") && part["alarms"].is_array() && !part["alarms"].empty())
      alarms = true;
  }
  return alarms ? "degraded" : "ok";
}

}  // namespace fulfil::agent
