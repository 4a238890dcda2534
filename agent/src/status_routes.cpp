#include "status_routes.hpp"

#include <nlohmann/json.hpp>

namespace fulfil::agent {

void add_status_routes(HttpServer& api, Store& store, const config::Settings& settings,
                       const char* version, std::function<nlohmann::json()> extra) {
  const std::int64_t started = now_ms();
  api.route("GET", "/health", [&store, &settings, version, started, extra](const ApiRequest&) {
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
    if (extra) body.update(extra());
    ApiResponse r;
    r.body = body.dump();
    return r;
  });
}

}  // namespace fulfil::agent
