#include "sync/cloud_simulator.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <random>
#include <set>

#include "config/clock.hpp"
#include "config/json_input.hpp"
#include "config/remote_config.hpp"
#include "http/http_server.hpp"
#include "sync/wire.hpp"

namespace fulfil::sync {
namespace asio = boost::asio;
using agent::ApiRequest;
using agent::ApiResponse;
using agent::http_error;
using nlohmann::json;

namespace {

struct FeedEntry {
  std::string id;
  std::string type;
  std::int64_t issued_at = 0;
  json payload;
};

struct Waiter {
  std::size_t cursor = 0;
  std::size_t limit = 100;
  agent::HttpServer::Responder respond;
  std::shared_ptr<asio::steady_timer> timer;
};

// The cloud's view of a store's stock: the last snapshot it sent, plus the movements of
// every event it received since (those above the snapshot's watermark), as the protocol's
// reconciliation defines it. Answers a store's request for a snapshot.
struct StockView {
  struct Level {
    std::int64_t on_hand = 0, unsellable = 0;
  };
  std::map<std::string, Level> levels;
  std::int64_t watermark = 0;  // of the snapshot the levels started from

  // An event's movements, unless the snapshot already holds them.
  void apply(std::int64_t seq, const json& payload) {
    if (seq <= watermark || !payload.is_object() || !payload.contains("movements") ||
        !payload["movements"].is_array())
      return;
    for (const auto& m : payload["movements"]) {
      if (!m.is_object() || !m.contains("sku") || !m["sku"].is_string() || !m.contains("delta") ||
          !m["delta"].is_number_integer())
        continue;
      auto& level = levels[m["sku"].get<std::string>()];
      (m.value("bucket", "on_hand") == "unsellable" ? level.unsellable : level.on_hand) +=
          m["delta"].get<std::int64_t>();
    }
  }
};

struct StoreState {
  std::vector<FeedEntry> feed;
  std::map<std::string, std::size_t> event_index;  // id -> position in events
  std::map<std::int64_t, std::string> seq_index;   // seq -> event id
  std::int64_t highest_seq = 0;                    // the highest sequence held
  StockView stock;
  json answered_snapshot_request;  // the store's last request that was answered
  std::vector<ReceivedEvent> events;
  std::int64_t duplicates = 0;
  std::int64_t heartbeats = 0;
  json last_heartbeat;
  std::list<Waiter> waiters;
};

// Route handlers live in the server, which the simulator owns: they hold it weakly (a
// strong reference would be a cycle that never frees), and a request that arrives after
// the simulator is gone fails instead of touching freed memory.
template <class T>
struct WeakSelf {
  std::weak_ptr<T> weak;
  T* operator->() const {
    auto strong = weak.lock();
    if (!strong) throw std::runtime_error("the cloud simulator has stopped");
    return strong.get();
  }
};

ApiResponse json_response(unsigned status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

}  // namespace

struct CloudSimulator::Impl : std::enable_shared_from_this<CloudSimulator::Impl> {
  Impl(asio::io_context& io, SimulatorOptions o)
      : io(io),
        options(std::move(o)),
        server(io, {options.host, options.port, options.max_body_bytes, ""}),
        rng(options.seed),
        codes(options.enrolment_codes.begin(), options.enrolment_codes.end()) {}

  asio::io_context& io;
  SimulatorOptions options;
  agent::HttpServer server;
  std::mt19937 rng;
  std::set<std::string> codes;
  std::map<std::string, std::string> tokens;  // token -> store id
  std::map<std::string, StoreState> stores;
  std::int64_t down_until_ms = 0;
  std::int64_t requests = 0;
  std::int64_t next_command = 0;

  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < p; }

  // Sends `r` after the configured latency, possibly damaged on the way.
  void deliver(agent::HttpServer::Responder respond, ApiResponse r,
               agent::Delivery how = agent::Delivery::whole, bool may_truncate = true) {
    if (how == agent::Delivery::whole && may_truncate && chance(options.faults.truncate_rate))
      how = agent::Delivery::truncated;
    if (options.faults.latency_ms <= 0) return respond.deliver(std::move(r), how);
    auto timer = std::make_shared<asio::steady_timer>(io);
    timer->expires_after(std::chrono::milliseconds(options.faults.latency_ms));
    timer->async_wait([timer, respond = std::move(respond), r = std::move(r), how](auto) mutable {
      respond.deliver(std::move(r), how);
    });
  }

  // Faults decided before the request is processed. Returns true if it was answered.
  bool fault_before(agent::HttpServer::Responder& respond) {
    ++requests;
    if (config::now_ms() < down_until_ms || chance(options.faults.reset_rate / 2)) {
      respond.deliver(ApiResponse{}, agent::Delivery::reset);
      return true;
    }
    if (chance(options.faults.error_rate)) {
      ApiResponse r = chance(0.5) ? http_error(503, "unavailable", "injected outage")
                                  : http_error(500, "internal", "injected failure");
      r.headers.push_back({"Retry-After", std::to_string(options.faults.retry_after_s)});
      deliver(std::move(respond), std::move(r), agent::Delivery::whole, false);
      return true;
    }
    return false;
  }

  // The request was processed, but the answer may still be lost.
  void answer(agent::HttpServer::Responder respond, ApiResponse r) {
    const bool lost = chance(options.faults.reset_rate / 2);
    deliver(std::move(respond), std::move(r),
            lost ? agent::Delivery::reset : agent::Delivery::whole);
  }

  std::optional<ApiResponse> check_store(const ApiRequest& req, std::string& store_id) {
    if (req.header("fulfil-protocol") != "1")
      return http_error(req.header("fulfil-protocol").empty() ? 400 : 426, "protocol_version",
                        "this cloud speaks Fulfil-Protocol 1");
    store_id = req.params.at(0);
    const std::string auth = req.header("authorization");
    const std::string prefix = "Bearer ";
    auto it = auth.rfind(prefix, 0) == 0 ? tokens.find(auth.substr(prefix.size())) : tokens.end();
    if (it == tokens.end() || it->second != store_id)
      return http_error(401, "unauthorized", "unknown or revoked device credential");
    return std::nullopt;
  }

  void install_routes() {
    auto self = WeakSelf<Impl>{weak_from_this()};
    server.route_async("POST", "/v1/enrolments", [self](const ApiRequest& req, auto respond) {
      if (self->fault_before(respond)) return;
      self->answer(std::move(respond), self->enrol(req));
    });
    server.route_async("GET", "/v1/stores/*/feed", [self](const ApiRequest& req, auto respond) {
      if (self->fault_before(respond)) return;
      self->feed(req, std::move(respond));
    });
    server.route_async("POST", "/v1/stores/*/events", [self](const ApiRequest& req, auto respond) {
      if (self->fault_before(respond)) return;
      self->answer(std::move(respond), self->receive_events(req));
    });
    server.route_async(
        "POST", "/v1/stores/*/heartbeat", [self](const ApiRequest& req, auto respond) {
          if (self->fault_before(respond)) return;
          std::string store_id;
          if (auto refused = self->check_store(req, store_id))
            return self->answer(std::move(respond), *refused);
          auto& st = self->stores[store_id];
          ++st.heartbeats;
          st.last_heartbeat = parse_json(req.body).value_or(json());
          // A store that lost events asks for a snapshot to re-base on: answered once per
          // request.
          if (st.last_heartbeat.is_object() && st.last_heartbeat.contains("snapshot_requested") &&
              st.last_heartbeat["snapshot_requested"] != st.answered_snapshot_request) {
            st.answered_snapshot_request = st.last_heartbeat["snapshot_requested"];
            self->enqueue(store_id, "inventory.snapshot", self->snapshot_of(st));
          }
          self->answer(std::move(respond), json_response(200, {{"server_time", config::now_ms()},
                                                               {"highest_seq", st.highest_seq}}));
        });
    install_admin_routes();
  }

  void install_admin_routes() {
    auto self = WeakSelf<Impl>{weak_from_this()};
    server.route("GET", "/admin/stores/*/events", [self](const ApiRequest& req) {
      json list = json::array();
      for (const auto& e : self->stores[req.params[0]].events)
        list.push_back({{"id", e.id},
                        {"seq", e.seq},
                        {"type", e.type},
                        {"subject", e.subject},
                        {"payload", e.payload}});
      return json_response(
          200, {{"events", list}, {"duplicates", self->stores[req.params[0]].duplicates}});
    });
    server.route("POST", "/admin/stores/*/commands", [self](const ApiRequest& req) {
      json body = json::parse(req.body, nullptr, false);
      if (body.is_object()) body = json::array({body});
      if (!body.is_array())
        return http_error(400, "bad_request", "expected {type, payload} or a list of them");
      json ids = json::array();
      for (const auto& c : body) {
        if (!c.is_object() || !c.contains("type") || !c["type"].is_string())
          return http_error(400, "bad_request", "each command needs a string type");
        ids.push_back(self->enqueue(req.params[0], c["type"], c.value("payload", json::object())));
      }
      return json_response(201, {{"ids", ids}});
    });
    // brand IT's console: a configuration document, signed here with the brand key.
    server.route("POST", "/admin/stores/*/config", [self](const ApiRequest& req) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object())
        return http_error(400, "bad_request",
                          "expected {\"version\": N, \"settings\": {...}} as a JSON object");
      auto id = self->push_config(req.params[0], body);
      if (!id) return http_error(400, "bad_request", id.error());
      return json_response(201, {{"ids", json::array({*id})}});
    });
    server.route("GET", "/admin/stores/*/stats", [self](const ApiRequest& req) {
      const auto& st = self->stores[req.params[0]];
      return json_response(200, {{"events", st.events.size()},
                                 {"duplicates", st.duplicates},
                                 {"heartbeats", st.heartbeats},
                                 {"last_heartbeat", st.last_heartbeat},
                                 {"feed_length", st.feed.size()},
                                 {"requests", self->requests}});
    });
    server.route("POST", "/admin/down", [self](const ApiRequest& req) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("seconds") || !body["seconds"].is_number_integer())
        return http_error(400, "bad_request", "expected {\"seconds\": N}");
      self->down_until_ms = config::now_ms() + body["seconds"].get<std::int64_t>() * 1000;
      return json_response(200, {{"down_until", self->down_until_ms}});
    });
  }

  Expected<std::string, std::string> push_config(const std::string& store_id,
                                                 const json& document) {
    if (options.config_signing_key.empty())
      return unexpected(std::string("this simulator has no brand key to sign with"));
    if (!document.contains("version") || !document["version"].is_number_integer() ||
        !document.contains("settings") || !document["settings"].is_object())
      return unexpected(
          std::string("a configuration needs \"version\" (an integer) and \"settings\" (an "
                      "object)"));
    auto payload =
        config::sign_desired_config(document, options.config_signing_key, options.config_key_id);
    if (!payload) return unexpected(payload.error());
    return enqueue(store_id, "config.desired", *payload);
  }

  ApiResponse enrol(const ApiRequest& req) {
    json body = parse_json(req.body).value_or(json());
    if (!body.is_object() || !body.contains("enrolment_code") ||
        !body["enrolment_code"].is_string() || !body.contains("store_id") ||
        !body["store_id"].is_string())
      return http_error(400, "bad_request", "expected enrolment_code and store_id");
    const std::string code = body["enrolment_code"];
    if (!codes.count(code))
      return http_error(403, "enrolment_code_invalid", "unknown or used code");
    codes.erase(code);
    const std::string store_id = body["store_id"];
    const std::string token = config::new_uuid() + config::new_uuid();
    tokens[token] = store_id;
    return json_response(201, {{"device_id", "dev-" + config::new_uuid()},
                               {"device_token", token},
                               {"store_id", store_id},
                               {"highest_seq", stores[store_id].highest_seq}});
  }

  json page(const StoreState& st, std::size_t cursor, std::size_t limit) {
    json commands = json::array();
    std::size_t from = cursor;
    // A duplicate delivery repeats commands the store already has.
    if (cursor > 0 && chance(options.faults.duplicate_feed_rate))
      from = cursor - std::min<std::size_t>(cursor, 1 + rng() % 3);
    const std::size_t to = std::min(st.feed.size(), cursor + limit);
    for (std::size_t i = from; i < to; ++i)
      commands.push_back({{"id", st.feed[i].id},
                          {"type", st.feed[i].type},
                          {"issued_at", st.feed[i].issued_at},
                          {"cursor", std::to_string(i + 1)},
                          {"payload", st.feed[i].payload}});
    return {{"commands", commands}, {"next_cursor", std::to_string(std::max(to, cursor))}};
  }

  void feed(const ApiRequest& req, agent::HttpServer::Responder respond) {
    std::string store_id;
    if (auto refused = check_store(req, store_id)) return answer(std::move(respond), *refused);
    auto& st = stores[store_id];
    std::size_t cursor = 0, limit = 100;
    int wait = 0;
    try {
      const std::string c = req.query_value("cursor");
      cursor = c.empty() ? 0 : std::stoul(c);
      limit = std::clamp<std::size_t>(std::stoul(req.query_value("limit", "100")), 1, 500);
      wait = std::clamp(std::stoi(req.query_value("wait", "0")), 0, 60);
    } catch (const std::exception&) {
      return answer(std::move(respond),
                    http_error(400, "bad_request", "bad cursor, limit or wait"));
    }
    if (cursor > st.feed.size())
      return answer(std::move(respond), http_error(400, "bad_cursor", "cursor is beyond the feed"));
    if (cursor < st.feed.size() || wait == 0)
      return answer(std::move(respond), json_response(200, page(st, cursor, limit)));
    auto timer = std::make_shared<asio::steady_timer>(io);
    st.waiters.push_back({cursor, limit, std::move(respond), timer});
    auto it = std::prev(st.waiters.end());
    timer->expires_after(std::chrono::seconds(wait));
    timer->async_wait(
        [self = shared_from_this(), store_id, it](const boost::system::error_code& ec) {
          if (ec) return;
          auto& s = self->stores[store_id];
          Waiter w = std::move(*it);
          s.waiters.erase(it);
          self->answer(std::move(w.respond), json_response(200, self->page(s, w.cursor, w.limit)));
        });
  }

  void wake(const std::string& store_id) {
    auto& st = stores[store_id];
    auto waiters = std::move(st.waiters);
    st.waiters.clear();
    for (auto& w : waiters) {
      w.timer->cancel();
      answer(std::move(w.respond), json_response(200, page(st, w.cursor, w.limit)));
    }
  }

  ApiResponse receive_events(const ApiRequest& req) {
    std::string store_id;
    if (auto refused = check_store(req, store_id)) return *refused;
    std::string body = req.body;
    if (req.header("content-encoding") == "gzip") {
      auto plain = gunzip(body, options.max_inflated_bytes);
      if (!plain) return http_error(400, "bad_encoding", plain.error().message);
      body = std::move(*plain);
    }
    json batch = parse_json(body).value_or(json());
    if (!batch.is_object() || !batch.contains("events") || !batch["events"].is_array())
      return http_error(400, "bad_request", "expected a JSON event batch");
    if (batch.value("store_id", "") != store_id)
      return http_error(400, "bad_request", "batch store_id does not match the path");
    if (batch["events"].size() > 1000)
      return http_error(413, "batch_too_large", "at most 1000 events per batch");
    if (!options.faults.poison_event_type.empty())
      for (const auto& e : batch["events"])
        if (e.is_object() && e.value("type", "") == options.faults.poison_event_type)
          return http_error(422, "unprocessable",
                            "the batch holds an event this cloud cannot read");
    auto& st = stores[store_id];
    // A sequence number this cloud holds under another id: the store lost events it had
    // sent (a restored database) and numbered new ones again. Nothing of the batch is
    // taken; the store renumbers above highest_seq and sends again.
    for (const auto& e : batch["events"]) {
      if (!e.is_object() || !e.contains("seq") || !e["seq"].is_number_integer() ||
          !e.contains("id") || !e["id"].is_string())
        continue;
      auto held = st.seq_index.find(e["seq"].get<std::int64_t>());
      if (held != st.seq_index.end() && held->second != e["id"].get<std::string>()) {
        auto refusal = http_error(409, "sequence_conflict",
                                  "sequence " + std::to_string(held->first) +
                                      " is held under another event id; number new events above " +
                                      std::to_string(st.highest_seq));
        auto body = json::parse(refusal.body);
        body["highest_seq"] = st.highest_seq;
        refusal.body = body.dump();
        return refusal;
      }
    }
    json acked = json::array(), rejected = json::array();
    for (const auto& e : batch["events"]) {
      if (!e.is_object() || !e.contains("id") || !e["id"].is_string() || !e.contains("seq") ||
          !e["seq"].is_number_integer() || !e.contains("type") || !e["type"].is_string()) {
        if (e.is_object() && e.contains("id") && e["id"].is_string())
          rejected.push_back({{"id", e["id"]}, {"reason", "malformed event"}});
        continue;
      }
      const std::string id = e["id"];
      if (!options.faults.reject_event_type.empty() &&
          e["type"] == options.faults.reject_event_type) {
        rejected.push_back(
            {{"id", id}, {"reason", "this cloud refuses " + e["type"].get<std::string>()}});
        continue;
      }
      if (st.event_index.count(id)) {
        ++st.duplicates;
      } else {
        const auto seq = e["seq"].get<std::int64_t>();
        st.event_index[id] = st.events.size();
        st.seq_index[seq] = id;
        st.highest_seq = std::max(st.highest_seq, seq);
        st.events.push_back(
            {id, seq, e["type"], e.value("subject", ""), e.value("payload", json::object())});
        st.stock.apply(seq, st.events.back().payload);
      }
      acked.push_back(id);
    }
    if (options.faults.out_of_order_acks) {
      std::vector<json> shuffled(acked.begin(), acked.end());
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      acked = shuffled;
    }
    return json_response(
        200, {{"acknowledged", acked}, {"rejected", rejected}, {"highest_seq", st.highest_seq}});
  }

  // A snapshot of the cloud's view: every event it holds is in it.
  json snapshot_of(const StoreState& st) const {
    json items = json::array();
    for (const auto& [sku, level] : st.stock.levels)
      items.push_back(
          {{"sku", sku},
           {"on_hand", std::max<std::int64_t>(level.on_hand, 0)},
           {"unsellable", std::clamp<std::int64_t>(level.unsellable, 0,
                                                   std::max<std::int64_t>(level.on_hand, 0))}});
    return {{"watermark_seq", st.highest_seq}, {"items", items}};
  }

  // A snapshot someone else (a test, brand IT) sends sets the cloud's view: its figures,
  // then the movements of events above its watermark that the cloud already holds.
  void take_snapshot(StoreState& st, const json& payload) {
    if (!payload.is_object() || !payload.contains("items") || !payload["items"].is_array()) return;
    st.stock.watermark = payload.value("watermark_seq", std::int64_t{0});
    st.stock.levels.clear();
    for (const auto& item : payload["items"])
      if (item.is_object() && item.contains("sku") && item["sku"].is_string())
        st.stock.levels[item["sku"]] = {item.value("on_hand", std::int64_t{0}),
                                        item.value("unsellable", std::int64_t{0})};
    for (const auto& e : st.events) st.stock.apply(e.seq, e.payload);
  }

  std::string enqueue(const std::string& store_id, const std::string& type, json payload) {
    const std::string id =
        "cmd-" + std::to_string(++next_command) + "-" + config::new_uuid().substr(0, 8);
    if (type == "inventory.snapshot") take_snapshot(stores[store_id], payload);
    stores[store_id].feed.push_back({id, type, config::now_ms(), std::move(payload)});
    wake(store_id);
    return id;
  }
};

CloudSimulator::CloudSimulator(asio::io_context& io, SimulatorOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {
  impl_->install_routes();
}

CloudSimulator::~CloudSimulator() {
  stop();
}

Expected<std::uint16_t, std::string> CloudSimulator::start() {
  return impl_->server.start();
}

void CloudSimulator::stop() {
  impl_->server.stop();
  for (auto& [id, st] : impl_->stores)
    for (auto& w : st.waiters) w.timer->cancel();
}

std::string CloudSimulator::enqueue(const std::string& store_id, const std::string& type,
                                    json payload) {
  return impl_->enqueue(store_id, type, std::move(payload));
}

Expected<std::string, std::string> CloudSimulator::push_config(const std::string& store_id,
                                                               const json& document) {
  return impl_->push_config(store_id, document);
}

void CloudSimulator::set_faults(const FaultPlan& faults) {
  impl_->options.faults = faults;
}

void CloudSimulator::go_down_for(int seconds) {
  impl_->down_until_ms = config::now_ms() + std::int64_t{seconds} * 1000;
}

std::vector<ReceivedEvent> CloudSimulator::events(const std::string& store_id) const {
  auto it = impl_->stores.find(store_id);
  return it == impl_->stores.end() ? std::vector<ReceivedEvent>{} : it->second.events;
}

std::int64_t CloudSimulator::duplicate_deliveries(const std::string& store_id) const {
  auto it = impl_->stores.find(store_id);
  return it == impl_->stores.end() ? 0 : it->second.duplicates;
}

std::int64_t CloudSimulator::heartbeats(const std::string& store_id) const {
  auto it = impl_->stores.find(store_id);
  return it == impl_->stores.end() ? 0 : it->second.heartbeats;
}

json CloudSimulator::last_heartbeat(const std::string& store_id) const {
  auto it = impl_->stores.find(store_id);
  return it == impl_->stores.end() ? json() : it->second.last_heartbeat;
}

std::int64_t CloudSimulator::requests_served() const {
  return impl_->requests;
}

}  // namespace fulfil::sync
