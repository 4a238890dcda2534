#include "api/terminal_api.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>

#include "api_support.hpp"
#include "codes/action_codes.hpp"
#include "config/log.hpp"
#include "desk_sessions.hpp"
#include "domain/order_lifecycle.hpp"

namespace fulfil::agent {
namespace asio = boost::asio;
using api::api_error;
using api::ApiErrc;
using api::Caller;
using nlohmann::json;

struct TerminalApi::State : std::enable_shared_from_this<TerminalApi::State> {
  State(asio::io_context& io, HttpServer& server, Store& store, const config::Settings& settings,
        TerminalApiHooks hooks)
      : server(server), store(store), settings(settings), hooks(std::move(hooks)), poll(io) {}

  struct Connection {
    std::weak_ptr<WebSocketChannel> channel;
    std::string terminal_id;
    std::string station;  // hardware scans of this station reach it
  };

  HttpServer& server;
  Store& store;
  const config::Settings& settings;
  TerminalApiHooks hooks;
  api::ApiCounters counters;
  std::unique_ptr<api::Routes> routes;  // the route handlers refer to it
  std::shared_ptr<api::DeskSessions> desk_sessions;
  std::vector<Connection> connections;
  std::int64_t pushed_seq = 0;
  asio::steady_timer poll;
  int polls = 0;
  json alarms = json::array();  // last pushed
  bool stopped = false;

  // --- who is calling --------------------------------------------------------------------

  // Where a request may carry its token. Only the WebSocket upgrade takes one in the query
  // (browsers cannot set headers on a WebSocket); anywhere else a token in a URL would end
  // up in proxies' and browsers' logs and histories, so it is not read there.
  enum class TokenIn { header, header_or_query };

  static std::string bearer_token(const ApiRequest& req, TokenIn where) {
    const std::string auth = req.header("authorization");
    if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
    return where == TokenIn::header_or_query ? req.query_value("token") : std::string();
  }

  std::optional<Caller> identify(const ApiRequest& req, TokenIn where) {
    if (req.via_unix_socket) {
      const std::string uid = req.peer_uid ? std::to_string(*req.peer_uid) : "unknown";
      return Caller{"uid:" + uid, "fulfilctl", Role::manager, "", true};
    }
    auto t = store.terminals().authenticate(bearer_token(req, where), now_ms());
    if (!t) return std::nullopt;
    return Caller{t->id, t->name, t->role, t->station, false};
  }

  static std::string forbidden_message(Role caller, Role route) {
    if (route == Role::manager) return "this needs a manager's terminal";
    if (caller == Role::pos) return "a till's token may call only the POS routes (/api/v1/pos/...)";
    return "this is for the store's tills (role pos) and managers";
  }

  std::optional<ApiResponse> refuse(const ApiRequest& req, const std::optional<Caller>& caller,
                                    Role min_role, TokenIn where) {
    if (!caller) {
      if (where == TokenIn::header && !req.query_value("token").empty() &&
          req.header("authorization").empty())
        return api_error(ApiErrc::unauthorized,
                         "a token in the URL is accepted only for the WebSocket; send it in "
                         "the Authorization header (Bearer)");
      return api_error(ApiErrc::unauthorized,
                       bearer_token(req, where).empty()
                           ? "this terminal is not paired: pair it with a code from "
                             "'fulfilctl pair'"
                           : "the terminal's token is unknown or was revoked: pair it again");
    }
    if (!role_may_call(caller->role, min_role))
      return api_error(ApiErrc::forbidden, forbidden_message(caller->role, min_role));
    return std::nullopt;
  }

  // --- routes ---------------------------------------------------------------------------

  void add(const std::string& method, const std::string& pattern, Role min_role,
           api::RouteHandler handler) {
    server.route(
        method, pattern,
        [self = weak_from_this(), method, min_role, h = std::move(handler)](const ApiRequest& req) {
          auto s = self.lock();
          if (!s) return api_error(ApiErrc::stopping, "fulfild is stopping");
          return s->handle(req, method, min_role, h);
        });
  }

  ApiResponse handle(const ApiRequest& req, const std::string& method, Role min_role,
                     const api::RouteHandler& handler) {
    ApiResponse out;
    try {
      const auto caller = identify(req, TokenIn::header);
      if (auto refusal = refuse(req, caller, min_role, TokenIn::header)) {
        out = *refusal;
      } else if (method == "GET") {
        out = handler(req, *caller, {caller->actor(), now_ms()});
      } else {
        out = mutate(req, *caller, handler);
      }
    } catch (const StorageFailure& e) {
      // A read (or the token check) the database could not answer: the same answer as a
      // change it could not store, so a client has one thing to handle.
      log::error("api", "a request could not be served",
                 {{"request", req.method + " " + req.path}, {"error", e.what()}});
      out = api_error(ApiErrc::storage, storage_failure_message(e));
    }
    counters.requests[std::to_string(out.status / 100) + "xx"]++;
    return out;
  }

  ApiResponse mutate(const ApiRequest& req, const Caller& caller,
                     const api::RouteHandler& handler) {
    const CommandContext ctx{caller.actor(), now_ms()};
    return audited(ctx, caller.role, req.method + " " + req.path,
                   [&] { return handler(req, caller, ctx); });
  }

  // Runs `command` in one transaction with its audit row: what the terminal was told
  // happened is on disk, and so is who did it.
  template <class Command>
  ApiResponse audited(const CommandContext& ctx, Role role, const std::string& action,
                      Command command) {
    // A full disk refuses changes before they start: the space the disk guard released
    // is for finishing what is in flight, not for new work.
    if (store.db().disk_full()) return api_error(ApiErrc::storage, disk_full_message());
    ApiResponse out;
    try {
      Transaction tx(store.db());
      out = command();
      store.terminals().audit(ctx.actor.str(), role, action, out.status, out.error_code,
                              ctx.now_ms);
      tx.commit();
    } catch (const StorageFailure& e) {
      log::error("api", "a change could not be stored", {{"action", action}, {"error", e.what()}});
      return api_error(ApiErrc::storage, storage_failure_message(e));
    }
    if (out.status < 400) changed();
    return out;
  }

  void changed() {
    if (hooks.local_change) hooks.local_change();
    publish();
  }

  // --- pushes to terminals --------------------------------------------------------------

  void publish() {
    prune();
    // Nobody listening: nothing to read (the first terminal to connect starts from the
    // outbox's end, see add_websocket).
    if (connections.empty()) return;
    for (;;) {
      auto events = store.outbox().since(pushed_seq, 200);
      if (events.empty()) return;
      for (const auto& e : events) {
        broadcast(
            {{"type", "event"},
             {"event",
              {{"seq", e.seq}, {"type", e.type}, {"subject", e.subject}, {"at", e.created_at}}}});
        pushed_seq = e.seq;
      }
    }
  }

  void broadcast(const json& message) {
    const std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
    for (auto& c : connections)
      if (auto ch = c.channel.lock(); ch && ch->is_open()) ch->send(text);
  }

  void send_to_station(const std::string& station, const json& message) {
    const std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
    for (auto& c : connections)
      if (auto ch = c.channel.lock(); ch && ch->is_open() && c.station == station) ch->send(text);
  }

  // --- hardware scans ---------------------------------------------------------------------

  void hardware_scan(const HardwareScan& scan) {
    prune();
    json message = {{"type", "scan"},    {"station", scan.station}, {"scanner", scan.scanner},
                    {"data", scan.data}, {"at", scan.at_ms},        {"order_id", nullptr}};
    // An action barcode (the desk's action sheet) presses a button on the desk's terminals:
    // it is passed on as it is, never tried as an item, and the session stays as it was.
    if (drivers::is_action_code(scan.data)) {
      message["action"] = true;
      if (auto session = store.stations().active(scan.station))
        message["order_id"] = session->order_id;
      return send_to_station(scan.station, message);
    }
    if (auto session = store.stations().active(scan.station)) {
      auto order = store.orders().find(session->order_id);
      if (order && allows(order->state, order->method, OrderAction::pick_item)) {
        const auto out = pick_from_scanner(scan, session->order_id);
        message["order_id"] = session->order_id;
        message["status"] = out.status;
        message["result"] = json::parse(out.body, nullptr, false);
      } else {
        // Picking ended (completed, cancelled): the desk has no session any more. Tidying
        // up can wait for a database that takes writes again.
        try {
          store.stations().close(scan.station);
          broadcast(api::session_ended_message(*session, api::kSessionPickingEnded));
        } catch (const StorageFailure& e) {
          log::warn("api", "cannot close a finished station session",
                    {{"station", scan.station}, {"error", e.what()}});
        }
      }
    }
    if (message["order_id"].is_null()) counters.scans["no_session"]++;
    send_to_station(scan.station, message);
  }

  ApiResponse pick_from_scanner(const HardwareScan& scan, const std::string& order_id) {
    const Caller caller{"scanner:" + scan.scanner, scan.scanner, Role::associate, scan.station,
                        false};
    const CommandContext ctx{{Actor::Kind::device, scan.scanner}, now_ms()};
    return audited(ctx, Role::associate, "SCAN " + scan.station + " order " + order_id,
                   [&] { return api::scan_into_order(*routes, order_id, scan.data, caller, ctx); });
  }

  void prune() {
    std::erase_if(connections, [](const Connection& c) {
      auto ch = c.channel.lock();
      return !ch || !ch->is_open();
    });
  }

  // A revoked terminal: its WebSockets close and its station sessions end at once.
  void disconnect(const std::string& terminal_id) {
    for (auto& c : connections)
      if (c.terminal_id == terminal_id)
        if (auto ch = c.channel.lock()) ch->close();
    prune();
    desk_sessions->revoked(terminal_id);
  }

  bool terminal_connected(const std::string& terminal_id) {
    prune();
    return std::ranges::any_of(connections,
                               [&](const Connection& c) { return c.terminal_id == terminal_id; });
  }

  // Changes that do not come through this API (the cloud feed, the SLA sweep) are found in
  // the outbox; a short poll while terminals are connected keeps them in step.
  void schedule_poll() {
    poll.expires_after(std::chrono::milliseconds(500));
    poll.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
      auto s = self.lock();
      if (ec || !s || s->stopped) return;
      s->publish();
      if (++s->polls % 10 == 0) s->check_alarms();
      s->schedule_poll();
    });
  }

  // Sync and device alarms reach the terminals when they appear and when they clear.
  void check_alarms() {
    if (!hooks.component_health) return;
    const json components = hooks.component_health();  // items() must not outlive it
    json now = json::array();
    for (const auto& [component, health] : components.items())
      if (health.is_object() && health.contains("alarms"))
        for (const auto& a : health["alarms"])
          now.push_back({{"component", component}, {"alarm", a}});
    if (now == alarms) return;
    alarms = now;
    prune();
    broadcast({{"type", "alarms"}, {"alarms", alarms}});
  }

  void add_websocket() {
    server.route_websocket(
        "/api/v1/events",
        [self = weak_from_this()](const ApiRequest& req, std::shared_ptr<WebSocketChannel> ch)
            -> std::optional<ApiResponse> {
          auto s = self.lock();
          if (!s) return api_error(ApiErrc::stopping, "fulfild is stopping");
          const auto caller = s->identify(req, TokenIn::header_or_query);
          if (auto refusal = s->refuse(req, caller, Role::associate, TokenIn::header_or_query))
            return refusal;
          s->prune();
          if (s->connections.empty()) s->pushed_seq = s->store.outbox().last_seq();
          // A terminal paired to a desk hears that desk's scanners; one paired without a
          // desk (a roaming tablet) may say which desk it stands at.
          const std::string station =
              caller->station.empty() ? req.query_value("station") : caller->station;
          s->connections.push_back({ch, caller->id, station});
          s->desk_sessions->connected(caller->id);
          // Its last WebSocket gone, the terminal's station sessions wait out the grace.
          // Posted: a channel may end while `connections` is being walked.
          ch->on_close = [self, io = s->poll.get_executor(), id = caller->id] {
            asio::post(io, [self, id] {
              if (auto st = self.lock(); st && !st->stopped) st->desk_sessions->left(id);
            });
          };
          ch->send(json{{"type", "hello"},
                        {"terminal",
                         {{"id", caller->id},
                          {"name", caller->name},
                          {"role", role_name(caller->role)},
                          {"station", station}}},
                        {"seq", s->pushed_seq}}
                       .dump());
          ch->on_message = [ch = std::weak_ptr<WebSocketChannel>(ch)](const std::string& text) {
            // Terminals only listen; a "ping" is answered so a UI can measure the link.
            if (auto c = ch.lock(); c && text == "ping") c->send(R"({"type":"pong"})");
          };
          return std::nullopt;
        });
  }
};

TerminalApi::TerminalApi(asio::io_context& io, HttpServer& server, Store& store,
                         const config::Settings& settings, TerminalApiHooks hooks)
    : state_(std::make_shared<State>(io, server, store, settings, std::move(hooks))) {
  auto& s = *state_;
  std::weak_ptr<State> weak = state_;
  s.desk_sessions = std::make_shared<api::DeskSessions>(
      io, store, std::chrono::seconds(settings.api.desk_session_grace_s),
      [weak](const std::string& terminal_id) {
        auto st = weak.lock();
        return st && st->terminal_connected(terminal_id);
      },
      [weak](const json& message) {
        if (auto st = weak.lock()) {
          st->prune();
          st->broadcast(message);
        }
      });
  s.routes.reset(new api::Routes{
      store, settings, s.counters,
      [weak](const std::string& method, const std::string& pattern, Role role,
             api::RouteHandler h) {
        if (auto st = weak.lock()) st->add(method, pattern, role, std::move(h));
      },
      server,
      [weak]() -> json {
        auto st = weak.lock();
        return st && st->hooks.component_health ? st->hooks.component_health() : json::object();
      },
      [weak]() -> std::size_t {
        auto st = weak.lock();
        if (!st) return 0;
        st->prune();
        return st->connections.size();
      },
      [weak](const std::string& id) {
        if (auto st = weak.lock()) st->disconnect(id);
      },
      [weak]() -> json {
        auto st = weak.lock();
        return st && st->hooks.scanners ? st->hooks.scanners() : json::array();
      },
      s.hooks.printing, s.hooks.demo,
      [weak](const json& message) {
        if (auto st = weak.lock()) {
          st->prune();
          st->broadcast(message);
        }
      },
      s.desk_sessions.get()});
  api::add_order_routes(*s.routes);
  api::add_store_routes(*s.routes);
  api::add_terminal_routes(*s.routes);
  api::add_ui_routes(*s.routes);
  api::add_station_routes(*s.routes);
  api::add_print_routes(*s.routes);
  api::add_config_routes(*s.routes);
  api::add_pick_list_routes(*s.routes);
  api::add_capacity_routes(*s.routes);
  api::add_shipment_routes(*s.routes);
  api::add_pos_routes(*s.routes);
  api::add_count_session_routes(*s.routes);
  s.add_websocket();
  s.pushed_seq = store.outbox().last_seq();
  s.schedule_poll();
  s.desk_sessions->start();  // sessions from before a restart wait for their terminals
}

TerminalApi::~TerminalApi() {
  state_->stopped = true;
  state_->poll.cancel();
  state_->desk_sessions->stop();
  for (auto& c : state_->connections)
    if (auto ch = c.channel.lock()) ch->close();
}

void TerminalApi::publish_changes() {
  state_->publish();
}

void TerminalApi::broadcast(const json& message) {
  state_->prune();
  state_->broadcast(message);
}

void TerminalApi::hardware_scan(const HardwareScan& scan) {
  state_->hardware_scan(scan);
}

void TerminalApi::devices_changed() {
  state_->prune();
  state_->broadcast(
      {{"type", "devices"},
       {"scanners", state_->hooks.scanners ? state_->hooks.scanners() : json::array()}});
}

std::size_t TerminalApi::connected_terminals() const {
  state_->prune();
  return state_->connections.size();
}

}  // namespace fulfil::agent
