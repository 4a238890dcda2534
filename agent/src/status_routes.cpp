#include "status_routes.hpp"

#include <nlohmann/json.hpp>

namespace fulfil::agent {

void add_status_routes(LocalApi& api, Store& store, const config::Settings& settings,
                       const char* version) {
  const std::int64_t started = now_ms();
  api.route("GET", "/health", [&store, &settings, version, started](const ApiRequest&) {
    const auto outbox = store.outbox().stats();
    const std::int64_t now = now_ms();
    nlohmann::json body = {
        {"status", "ok"},
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
    return ApiResponse{200, body.dump()};
  });
}

}  // namespace fulfil::agent
