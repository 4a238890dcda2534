#pragma once
// Internal to agent/: the unauthenticated health endpoint (no customer data in it).
#include "config/settings.hpp"
#include "domain/store.hpp"
#include "http/http_server.hpp"

#include <functional>

#include <nlohmann/json.hpp>

namespace fulfil::agent {
// `extra` adds the sections of other components (the cloud link's state).
void add_status_routes(HttpServer& api, Store& store, const config::Settings& settings,
                       const char* version, std::function<nlohmann::json()> extra);
// GET /health's "status": ok | degraded | failing, from the parts' "alarms" and "failing".
std::string overall_status(const nlohmann::json& health);
}  // namespace fulfil::agent
