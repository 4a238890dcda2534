// Stations (pack desks): which order each desk's hardware scanners pick into, and the state
// of its scanners. A terminal at a desk opens the session when it starts picking an order;
// the session lives while that terminal is connected (desk_sessions.hpp). Every open and
// close is pushed to the terminals (`station_session` messages).
#include <regex>
#include <set>

#include "api_support.hpp"
#include "desk_sessions.hpp"
#include "domain/order_lifecycle.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

bool valid_station(const std::string& s) {
  static const std::regex pattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  return std::regex_match(s, pattern);
}

json session_json(Routes& r, const StationSession& s) {
  auto order = r.store.orders().find(s.order_id);
  const auto closes_at = r.desk_sessions->closes_at(s.opened_by);
  return {{"order_id", s.order_id},
          {"order_ref", order ? order->order_ref : ""},
          {"state", order ? std::string(state_name(order->state)) : ""},
          {"opened_by", s.opened_by},
          {"opened_at", s.opened_at},
          {"closes_at", closes_at ? json(*closes_at) : json(nullptr)}};
}

// Every station anyone knows of: from the scanners' config, the paired terminals and the
// open sessions.
json stations_json(Routes& r) {
  const json scanners = r.scanners ? r.scanners() : json::array();
  std::set<std::string> names;
  for (const auto& s : scanners) names.insert(s.value("station", ""));
  for (const auto& t : r.store.terminals().list(false))
    if (!t.station.empty()) names.insert(t.station);
  std::map<std::string, StationSession> sessions;
  for (auto& s : r.store.stations().list()) {
    names.insert(s.station);
    sessions.emplace(s.station, s);
  }
  json out = json::array();
  for (const auto& name : names) {
    if (name.empty()) continue;
    json own = json::array();
    for (const auto& s : scanners)
      if (s.value("station", "") == name) own.push_back(s);
    auto session = sessions.find(name);
    out.push_back(
        {{"station", name},
         {"session", session == sessions.end() ? json(nullptr) : session_json(r, session->second)},
         {"scanners", own}});
  }
  return out;
}

std::optional<ApiResponse> refuse_station(const std::string& station, const Caller& c) {
  if (!valid_station(station))
    return api_error(ApiErrc::invalid_station,
                     "station '" + station +
                         "' is not a station name (letters, digits, '_', '.', '-'; at most 64)");
  if (c.role == Role::associate && !c.station.empty() && c.station != station)
    return api_error(ApiErrc::forbidden,
                     "this terminal belongs to station " + c.station + ", not " + station);
  return std::nullopt;
}

// From now on the desk's scanners pick into the order, for the terminal that points them at
// it: opening takes the order's claim.
ApiResponse open_session(Routes& r, const ApiRequest& req, const Caller& c,
                         const CommandContext& ctx) {
  const std::string& station = req.params[0];
  if (auto refusal = refuse_station(station, c)) return *refusal;
  Body b(req, {"order_id"});
  const auto order_id = b.text("order_id", true, 64);
  if (!b) return b.error();
  auto order = r.store.orders().find(order_id);
  if (!order) return api_error(ApiErrc::not_found, "no fulfilment order " + order_id);
  if (!allows(order->state, order->method, OrderAction::pick_item))
    return api_error(ApiErrc::illegal_transition,
                     "order " + order->order_ref + " is " + std::string(state_name(order->state)) +
                         ": scanners can only pick into an order being picked");
  if (auto claimed = r.store.orders().claims().take(order_id, ctx); !claimed)
    return domain_error(claimed.error());
  const auto replaced = r.store.stations().active(station);
  auto session = r.store.stations().open(station, order_id, ctx);
  if (!session) return domain_error(session.error());
  r.desk_sessions->opened(*session);
  json out = {{"station", station}, {"session", session_json(r, *session)}};
  json message = {{"type", "station_session"}, {"station", station}, {"session", out["session"]}};
  // Another order or another terminal's: the session it replaced has ended.
  if (replaced && (replaced->order_id != order_id || replaced->opened_by != session->opened_by)) {
    message["ended"] = {{"order_id", replaced->order_id}, {"opened_by", replaced->opened_by}};
    message["reason"] = kSessionReplaced;
  }
  r.notify_terminals(message);
  return json_response(out);
}

}  // namespace

void add_station_routes(Routes& r) {
  r.add("GET", "/api/v1/stations", Role::associate,
        [&r](const ApiRequest&, const Caller&, const CommandContext&) {
          return json_response({{"stations", stations_json(r)}});
        });
  r.add("PUT", "/api/v1/stations/*/session", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return open_session(r, req, c, ctx);
        });
  r.add("DELETE", "/api/v1/stations/*/session", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext&) {
          const std::string& station = req.params[0];
          if (auto refusal = refuse_station(station, c)) return *refusal;
          if (auto ended = r.store.stations().active(station)) {
            r.store.stations().close(station);
            r.notify_terminals(session_ended_message(*ended, kSessionClosed));
          }
          return json_response({{"station", station}, {"session", nullptr}});
        });
}

}  // namespace fulfil::agent::api
