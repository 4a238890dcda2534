// The configuration in effect and the remote configurations brand IT pushed, for store
// managers and `fulfilctl config show|history`.
#include "api_support.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

// Secrets stay on the box.
json redacted(json document) {
  auto& code = document["sync"]["enrolment_code"];
  if (code.is_string() && !code.get<std::string>().empty()) code = "(set)";
  return document;
}

}  // namespace

void add_config_routes(Routes& r) {
  r.add("GET", "/api/v1/config", Role::manager,
        [&r](const ApiRequest&, const Caller&, const CommandContext&) {
          json rollout = r.component_health ? r.component_health().value("config", json::object())
                                            : json::object();
          auto active = r.store.remote_configs().active();
          return json_response({{"remote_version", active ? active->version : 0},
                                {"remote_settings", active ? active->settings : json(nullptr)},
                                {"rollout", rollout},
                                {"effective", redacted(r.settings.document)}});
        });
  r.add("GET", "/api/v1/config/history", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          const auto limit = query_limit(req, 50);
          if (!limit) return limit.error();
          json out = json::array();
          for (const auto& row : r.store.remote_configs().history(static_cast<std::size_t>(*limit)))
            out.push_back(row.to_json());
          return json_response({{"configs", out}});
        });
}

}  // namespace fulfil::agent::api
