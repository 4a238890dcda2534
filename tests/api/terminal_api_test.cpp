// The terminal API over real HTTP on loopback (and its Unix socket): authentication and
// roles, pairing, the whole ship-from-store and pickup workflows, refusals that change
// nothing, WebSocket pushes, and metrics.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <qrencode.h>
#include <sqlite3.h>

#include "api/terminal_api.hpp"
#include "api_client.hpp"
#include "child_process.hpp"
#include "config/url.hpp"
#include "domain/cloud_commands.hpp"
#include "http/http_server.hpp"
#include "loopback.hpp"
#include "test_support.hpp"

namespace fulfil::test {
namespace {

using agent::DeliveryMethod;
using nlohmann::json;
using namespace std::chrono_literals;

// A store with the terminal API on an ephemeral port, served from its own thread (the
// test thread is the terminal).
struct ApiServer {
  TestStore store = open_test_store();
  config::Settings settings;
  boost::asio::io_context io;
  std::unique_ptr<agent::HttpServer> server;
  std::unique_ptr<agent::PrintSpooler> spooler;
  std::unique_ptr<agent::TerminalApi> api;
  std::thread thread;
  unsigned short port = 0;
  std::string socket;
  int local_changes = 0;
  json scanners = json::array();  // what the scanners hook reports
  bool demo = false;

  explicit ApiServer(std::vector<std::string> overrides = {}, bool demo_pairing = false)
      : demo(demo_pairing) {
    settings = *config::load({std::nullopt, std::move(overrides)});
    socket = store.dir->path() + "/api.sock";
    seed_catalog(*store, 20, 50);
    start();
  }
  ~ApiServer() { stop(); }
  // As fulfild restarting: the loop, the server and the database closed and opened again
  // (the port changes).
  void restart() {
    stop();
    store.reopen();
    io.restart();
    start();
  }
  void start() {
    server = std::make_unique<agent::HttpServer>(
        io, agent::ApiOptions{"127.0.0.1", 0, 64 * 1024, socket});
    // Printing runs when printers are configured (before the loop's thread starts).
    if (!settings.printers.empty()) {
      spooler = std::make_unique<agent::PrintSpooler>(io, *store, settings, nullptr);
      spooler->start();
    }
    api = std::make_unique<agent::TerminalApi>(
        io, *server, *store, settings,
        agent::TerminalApiHooks{[this] {
                                  ++local_changes;
                                  if (spooler) spooler->kick();
                                },
                                [] { return json::object(); }, [this] { return scanners; },
                                spooler.get(), demo});
    port = *server->start();
    thread = std::thread([this] { io.run(); });
  }
  void stop() {
    boost::asio::post(io, [this] {
      api.reset();
      spooler.reset();
      server->stop();
      io.stop();
    });
    thread.join();
  }
  // Runs `f` on the server's thread (the store belongs to it) and returns its result.
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }
  void add_order(const std::string& id, DeliveryMethod m,
                 std::vector<std::pair<std::string, std::int64_t>> lines) {
    on_loop([&] {
      auto o = make_order(id, m, lines);
      o.accept_by = agent::now_ms() + 3'600'000;
      REQUIRE(store->orders().receive(o, ctx(agent::now_ms())));
      return 0;
    });
  }
  std::string fingerprint_without_audit() {
    return on_loop([&] { return fingerprint(store->db(), {"audit"}); });
  }
  // A terminal paired through the real flow: a code from the Unix socket, then /pair.
  std::string pair(const std::string& role, const std::string& name = "Counter",
                   const std::string& station = "") {
    auto code = unix_request(socket, "POST", "/api/v1/pairing-codes",
                             json{{"role", role}, {"name", name}, {"station", station}}.dump());
    REQUIRE(code.status == 201);
    auto paired = ApiClient(port).post("/api/v1/pair", {{"code", code.json()["code"]}});
    REQUIRE(paired.status == 201);
    return paired.json()["token"];
  }
};

std::string barcode_of(ApiServer& s, const std::string& sku) {
  return s.on_loop([&] { return s.store->inventory().barcodes_of(sku).at(0); });
}

TEST_CASE("every API call needs a paired terminal; managers' calls need a manager") {
  ApiServer s;
  ApiClient anonymous(s.port);
  auto r = anonymous.get("/api/v1/orders");
  CHECK(r.status == 401);
  CHECK(r.error_code() == "unauthorized");
  CHECK(ApiClient(s.port, std::string(64, 'a')).get("/api/v1/orders").status == 401);
  CHECK(anonymous.get("/metrics").status == 200);  // no customer data: scrapers need no token

  ApiClient associate(s.port, s.pair("associate"));
  CHECK(associate.get("/api/v1/orders").status == 200);
  CHECK(associate.get("/api/v1/session").json()["role"] == "associate");
  auto forbidden = associate.post("/api/v1/inventory/adjustments",
                                  {{"sku", "SKU-0001"}, {"kind", "receipt"}, {"quantity", 5}});
  CHECK(forbidden.status == 403);
  CHECK(associate.get("/api/v1/terminals").status == 403);

  ApiClient manager(s.port, s.pair("manager"));
  auto adjusted = manager.post("/api/v1/inventory/adjustments",
                               {{"sku", "SKU-0001"}, {"kind", "receipt"}, {"quantity", 5}});
  CHECK(adjusted.status == 200);
  CHECK(adjusted.json()["on_hand"] == 55);

  // The Unix socket is a manager (its file permissions are the authentication).
  auto local = unix_request(s.socket, "GET", "/api/v1/session");
  CHECK(local.json()["role"] == "manager");
  CHECK(local.json()["local"] == true);
}

TEST_CASE("pairing codes are one-time, guessing is rate-limited, and revocation is immediate") {
  ApiServer s({"api.pairing_attempts_per_minute=3"});
  auto code = unix_request(
      s.socket, "POST", "/api/v1/pairing-codes",
      json{{"role", "associate"}, {"name", "Pack desk"}, {"station", "pack-1"}}.dump());
  REQUIRE(code.status == 201);
  const std::string c = code.json()["code"];
  CHECK(c.size() == 11);
  ApiClient anonymous(s.port);
  auto paired = anonymous.post("/api/v1/pair", {{"code", c}});
  REQUIRE(paired.status == 201);
  CHECK(paired.json()["name"] == "Pack desk");
  CHECK(paired.json()["station"] == "pack-1");
  CHECK(anonymous.post("/api/v1/pair", {{"code", c}}).status == 404);  // used
  // The token is stored only as a hash.
  const std::string token = paired.json()["token"];
  CHECK(s.on_loop([&] { return fingerprint(s.store->db()); }).find(token) == std::string::npos);

  auto fresh = unix_request(s.socket, "POST", "/api/v1/pairing-codes", R"({"role":"manager"})");
  for (int i = 0; i < 2; ++i)
    CHECK(anonymous.post("/api/v1/pair", {{"code", "000-000-000"}}).status == 404);
  auto limited = anonymous.post("/api/v1/pair", {{"code", fresh.json()["code"]}});
  CHECK(limited.status == 429);  // even the right code waits once the limit is reached
  CHECK(limited.error_code() == "too_many_attempts");
  CHECK(anonymous.post("/api/v1/pair", {{"code", "12"}}).status == 429);
  CHECK(unix_request(s.socket, "POST", "/api/v1/pairing-codes", R"({"role":"owner"})").status ==
        422);

  ApiClient terminal(s.port, token);
  EventSocket events(s.port, token);
  REQUIRE(events.next(2s).value()["type"] == "hello");
  const std::string id = paired.json()["id"];
  auto revoked = unix_request(s.socket, "DELETE", "/api/v1/terminals/" + id);
  CHECK(revoked.status == 200);
  CHECK(revoked.json()["revoked_at"] > 0);
  CHECK(terminal.get("/api/v1/orders").status == 401);
  CHECK_FALSE(events.next(2s).has_value());  // its WebSocket was closed
  CHECK(events.closed());
  CHECK(unix_request(s.socket, "DELETE", "/api/v1/terminals/" + id).status == 409);
  auto listed = unix_request(s.socket, "GET", "/api/v1/terminals?all=1").json()["terminals"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["revoked_at"] > 0);
}

TEST_CASE("ship from store over HTTP: accept, pick by scan, pack, hand over on a manifest") {
  ApiServer s;
  s.add_order("FO-1", DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}});
  const std::string token = s.pair("associate", "Counter 2");
  ApiClient t(s.port, token);
  EventSocket events(s.port, token);
  REQUIRE(events.next(2s).value()["type"] == "hello");

  auto queue = t.get("/api/v1/orders?state=routed").json();
  REQUIRE(queue["orders"].size() == 1);
  CHECK(queue["orders"][0]["accept_in_ms"] > 0);
  CHECK(queue["counts"]["routed"] == 1);

  auto accepted = t.post("/api/v1/orders/FO-1/accept", nullptr);
  REQUIRE(accepted.status == 200);
  CHECK(accepted.json()["state"] == "accepted");
  CHECK(events.wait_for("order.accepted", "FO-1", 3s));  // pushed to every terminal
  CHECK(s.local_changes >= 1);                           // and the cloud link was told
  REQUIRE(t.post("/api/v1/orders/FO-1/start-picking", nullptr).status == 200);

  // Refusals: each with its own code, and nothing changes.
  const auto before = s.fingerprint_without_audit();
  auto wrong = t.post("/api/v1/orders/FO-1/scan", {{"barcode", barcode_of(s, "SKU-0005")}});
  CHECK(wrong.status == 422);
  CHECK(wrong.error_code() == "wrong_item");
  auto unknown = t.post("/api/v1/orders/FO-1/scan", {{"barcode", "4006381333931"}});
  CHECK(unknown.error_code() == "unknown_barcode");
  CHECK(t.post("/api/v1/orders/FO-1/scan", {{"barcode", ""}}).error_code() == "missing_field");
  CHECK(t.post("/api/v1/orders/FO-1/accept", nullptr).status == 409);
  CHECK(s.fingerprint_without_audit() == before);

  for (auto [sku, n] : {std::pair{"SKU-0001", 2}, std::pair{"SKU-0002", 1}})
    for (int i = 0; i < n; ++i) {
      auto scanned = t.post("/api/v1/orders/FO-1/scan", {{"barcode", barcode_of(s, sku)}});
      REQUIRE(scanned.status == 200);
      CHECK(scanned.json()["sku"] == sku);
    }
  auto over = t.post("/api/v1/orders/FO-1/scan", {{"barcode", barcode_of(s, "SKU-0002")}});
  CHECK(over.status == 409);
  CHECK(over.error_code() == "over_scan");
  REQUIRE(t.post("/api/v1/orders/FO-1/complete-picking", nullptr).json()["state"] == "picked");

  const auto unpacked = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/orders/FO-1/pack", {{"packages", json::array()}}).error_code() ==
        "missing_field");
  auto unknown_field =
      t.post("/api/v1/orders/FO-1/pack", {{"packages",
                                           {{{"box_type", "M"},
                                             {"weight_g", 900},
                                             {"items", {{{"line_no", 1}, {"quantity", 2}}}},
                                             {"colour", "red"}}}}});
  CHECK(unknown_field.status == 400);
  CHECK(unknown_field.json()["error"]["message"].get<std::string>().find("packages[0].colour") !=
        std::string::npos);
  auto bad_box = t.post(
      "/api/v1/orders/FO-1/pack",
      {{"packages",
        {{{"box_type", "crate"},
          {"weight_g", 900},
          {"items", {{{"line_no", 1}, {"quantity", 2}}, {{"line_no", 2}, {"quantity", 1}}}}}}}});
  CHECK(bad_box.status == 422);
  auto incomplete = t.post(
      "/api/v1/orders/FO-1/pack",
      {{"packages",
        {{{"box_type", "M"}, {"weight_g", 900}, {"items", {{{"line_no", 1}, {"quantity", 2}}}}}}}});
  CHECK(incomplete.status == 422);
  CHECK(s.fingerprint_without_audit() == unpacked);
  auto packed = t.post(
      "/api/v1/orders/FO-1/pack",
      {{"packages",
        {{{"box_type", "M"},
          {"weight_g", 900},
          {"items", {{{"line_no", 1}, {"quantity", 2}}, {{"line_no", 2}, {"quantity", 1}}}}}}}});
  REQUIRE(packed.status == 200);
  CHECK(packed.json()["state"] == "packed");

  CHECK(t.post("/api/v1/manifests",
               {{"carrier", "Pigeon Post"}, {"parcels", {{{"order_id", "FO-1"}}}}})
            .status == 422);
  auto manifest =
      t.post("/api/v1/manifests",
             {{"carrier", "DHL"}, {"parcels", {{{"order_id", "FO-1"}, {"tracking", "JD0001"}}}}});
  REQUIRE(manifest.status == 201);
  CHECK(manifest.json()["parcel_count"] == 1);
  CHECK(manifest.json()["total_weight_g"] == 900);
  CHECK(manifest.json()["parcels"][0]["tracking"] == "JD0001");
  auto shipped = t.get("/api/v1/orders/FO-1").json();
  CHECK(shipped["state"] == "shipped");
  CHECK(shipped["carrier"] == "DHL");

  // Who did it is on the ledger and in the audit trail.
  const std::string actor = "terminal:" + t.get("/api/v1/session").json()["id"].get<std::string>();
  auto audit = unix_request(s.socket, "GET", "/api/v1/audit?limit=1000").json()["entries"];
  bool audited_scan = false, audited_refusal = false;
  for (const auto& e : audit) {
    audited_scan |=
        e["actor"] == actor && e["action"] == "POST /api/v1/orders/FO-1/scan" && e["status"] == 200;
    audited_refusal |= e["actor"] == actor && e["detail"] == "wrong_item";
  }
  CHECK(audited_scan);
  CHECK(audited_refusal);
  CHECK(s.on_loop([&] {
    return count_rows(s.store->db(), "ledger WHERE actor = '" + actor + "'");
  }) == 2);
  CHECK(s.on_loop([&] { return invariant_violations(s.store->db()); }).empty());

  auto metrics = ApiClient(s.port).get("/metrics").body;
  CHECK(metrics.find("fulfild_scans_total{result=\"ok\"} 3") != std::string::npos);
  CHECK(metrics.find("fulfild_scans_total{result=\"wrong_item\"} 1") != std::string::npos);
  CHECK(metrics.find("fulfild_orders{state=\"shipped\"} 1") != std::string::npos);
  CHECK(metrics.find("fulfild_terminals_connected 1") != std::string::npos);
}

TEST_CASE(
    "pickup: the code is hidden from associates, a wrong one is counted, the right one collects") {
  ApiServer s;  // the store's policy: 5 attempts
  s.add_order("FO-P", DeliveryMethod::pickup, {{"SKU-0003", 1}});
  ApiClient t(s.port, s.pair("associate"));
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-P/") + step, nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-P/scan", {{"barcode", barcode_of(s, "SKU-0003")}}).status ==
          200);
  auto picked = t.post("/api/v1/orders/FO-P/complete-picking", nullptr);
  REQUIRE(picked.status == 200);
  // No box, no weight: from the picking bench to the shelf.
  CHECK(picked.json()["allowed_actions"] == json::array({"reject", "ready_for_pickup"}));
  CHECK(t.post("/api/v1/orders/FO-P/pack", {{"packages",
                                             {{{"box_type", "S"},
                                               {"weight_g", 300},
                                               {"items", {{{"line_no", 1}, {"quantity", 1}}}}}}}})
            .error_code() == "illegal_transition");
  // A shelf is 1 to 20 printable characters; a bad one is refused and changes nothing.
  const auto before = s.fingerprint_without_audit();
  for (const json& bad : {json(""), json("   "), json(std::string(21, 'P')), json("P\n3"), json(3),
                          json("R\u00e9gal")}) {
    CAPTURE(bad.dump());
    auto refused = t.post("/api/v1/orders/FO-P/ready-for-pickup", {{"shelf", bad}});
    CHECK(refused.status == 422);
    CHECK(refused.error_code() == "invalid_field");
    CHECK(refused.body.find("shelf") != std::string::npos);
  }
  CHECK(s.fingerprint_without_audit() == before);
  auto ready = t.post("/api/v1/orders/FO-P/ready-for-pickup", {{"shelf", " P-03 "}});
  REQUIRE(ready.status == 200);
  CHECK_FALSE(ready.json().contains("pickup_code"));
  CHECK(ready.json()["pickup_shelf"] == "P-03");
  CHECK(ready.json()["packages"].empty());
  CHECK(t.get("/api/v1/orders/FO-P").json()["pickup_shelf"] == "P-03");
  const std::string code =
      unix_request(s.socket, "GET", "/api/v1/orders/FO-P").json()["pickup_code"];
  REQUIRE_FALSE(code.empty());

  auto wrong = t.post("/api/v1/orders/FO-P/collect", {{"code", "WRONG1"}});
  CHECK(wrong.status == 422);
  CHECK(wrong.error_code() == "wrong_pickup_code");
  CHECK(wrong.json()["error"]["attempts_left"] == 4);
  CHECK(t.get("/api/v1/orders/FO-P").json()["pickup_attempts"] == 1);  // counted, committed
  auto collected = t.post("/api/v1/orders/FO-P/collect", {{"code", code}});
  REQUIRE(collected.status == 200);
  CHECK(collected.json()["state"] == "collected");

  // A return of the collected item, by barcode, back to stock.
  auto ret = t.post(
      "/api/v1/returns",
      {{"order_id", "FO-P"},
       {"lines",
        {{{"barcode", barcode_of(s, "SKU-0003")}, {"quantity", 1}, {"disposition", "restock"}}}}});
  CHECK(ret.status == 201);
  CHECK(t.post("/api/v1/returns",
               {{"order_id", "FO-P"},
                {"lines", {{{"sku", "SKU-0003"}, {"quantity", 1}, {"disposition", "restock"}}}}})
            .status == 422);
  CHECK(t.post("/api/v1/returns",
               {{"lines", {{{"sku", "SKU-0003"}, {"quantity", 1}, {"disposition", "burn"}}}}})
            .status == 422);
}

TEST_CASE("malformed, oversized and misrouted requests are refused with a clear error") {
  ApiServer s;
  s.add_order("FO-2", DeliveryMethod::ship, {{"SKU-0001", 1}});
  ApiClient t(s.port, s.pair("associate"));
  const auto before = s.fingerprint_without_audit();
  auto malformed = t.send("POST", "/api/v1/orders/FO-2/reject", "{\"reason\": ");
  CHECK(malformed.status == 400);
  CHECK(malformed.error_code() == "malformed_json");
  CHECK(t.send("POST", "/api/v1/orders/FO-2/reject", "[1,2]").error_code() == "malformed_json");
  CHECK(t.post("/api/v1/orders/FO-2/reject", {{"reason", "bored"}}).status == 422);
  CHECK(t.post("/api/v1/orders/FO-2/reject", {{"reason", 7}}).error_code() == "invalid_field");
  CHECK(t.post("/api/v1/orders/FO-2/accept", {{"force", true}}).error_code() == "unknown_field");
  auto big = t.send("POST", "/api/v1/orders/FO-2/scan", std::string(70 * 1024, 'x'));
  CHECK(big.status == 413);
  CHECK(t.get("/api/v1/nothing-here").status == 404);
  CHECK(t.send("PUT", "/api/v1/orders", "").status == 405);
  CHECK(t.post("/api/v1/orders/FO-404/accept", nullptr).status == 404);
  CHECK(t.get("/api/v1/orders?state=lost").status == 400);
  CHECK(t.get("/api/v1/orders?limit=many").error_code() == "invalid_query");
  CHECK(t.get("/api/v1/inventory").status == 400);
  CHECK(s.fingerprint_without_audit() == before);

  // Inventory lookup by text and by barcode.
  CHECK(t.get("/api/v1/inventory?q=SKU-0001").json()["items"].size() >= 1);
  CHECK(t.get("/api/v1/inventory/SKU-0001").json()["available"] ==
        50);  // a routed order reserves nothing yet
  CHECK(t.get("/api/v1/devices").status == 200);
  CHECK(t.get("/").content_type.find("text/html") == 0);
  CHECK(websocket_refusal(s.port, "/api/v1/events") == 401);
  CHECK(websocket_refusal(s.port, "/api/v1/events?token=bad") == 401);
}

TEST_CASE("a read the database cannot answer is 503 storage, on every route, GET included") {
  ApiServer s;
  s.add_order("FO-3", DeliveryMethod::ship, {{"SKU-0001", 1}});
  ApiClient t(s.port, s.pair("associate"));
  REQUIRE(t.get("/api/v1/orders").status == 200);
  // Tables the reads need go missing (as a damaged file might have them): every answer
  // says storage, none is a 500.
  s.on_loop([&] {
    s.store->db().exec("ALTER TABLE order_line RENAME TO order_line_away");
    s.store->db().exec("ALTER TABLE outbox RENAME TO outbox_away");
    return 0;
  });
  for (const char* path : {"/api/v1/orders", "/api/v1/orders/FO-3"}) {
    CAPTURE(path);
    const auto r = t.get(path);
    CHECK(r.status == 503);
    CHECK(r.error_code() == "storage");
  }
  s.on_loop([&] {
    s.store->db().exec("ALTER TABLE order_line_away RENAME TO order_line");
    s.store->db().exec("ALTER TABLE outbox_away RENAME TO outbox");
    return 0;
  });
  CHECK(t.get("/api/v1/orders").status == 200);
}

TEST_CASE("a manager's cycle count posts the differences") {
  ApiServer s;
  ApiClient m(s.port, s.pair("manager"));
  auto counted =
      m.post("/api/v1/inventory/counts",
             {{"entries",
               {{{"sku", "SKU-0001"}, {"on_hand", 47}}, {{"sku", "SKU-0002"}, {"on_hand", 50}}}},
              {"note", "aisle A"}});
  REQUIRE(counted.status == 200);
  auto diffs = counted.json()["differences"];
  bool found = false;
  for (const auto& d : diffs) found |= d["sku"] == "SKU-0001" && d["on_hand_delta"] == -3;
  CHECK(found);
  CHECK(m.post("/api/v1/inventory/counts", {{"entries", {{{"sku", "NOPE"}, {"on_hand", 1}}}}})
            .status == 422);
  CHECK(m.post("/api/v1/inventory/counts", {{"entries", {{{"sku", "SKU-0001"}, {"on_hand", -1}}}}})
            .status == 422);
}

TEST_CASE("the rest of the workflow: reject, pick by SKU, short pick, single ship, unlocking") {
  ApiServer s;
  s.add_order("FO-R", DeliveryMethod::ship, {{"SKU-0001", 1}});
  s.add_order("FO-S", DeliveryMethod::ship, {{"SKU-0002", 2}, {"SKU-0003", 1}});
  s.add_order("FO-L", DeliveryMethod::pickup, {{"SKU-0004", 1}});
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  const auto reference = t.get("/api/v1/reference").json();
  CHECK(reference["carriers"].size() >= 1);
  CHECK(reference["pickup_code_max_attempts"] == 5);
  auto rejected =
      t.post("/api/v1/orders/FO-R/reject", {{"reason", reference["reject_reasons"][0]}});
  REQUIRE(rejected.status == 200);
  CHECK(rejected.json()["state"] == "rejected");

  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-S/") + step, nullptr).status == 200);
  auto detail = t.get("/api/v1/orders/FO-S").json();
  auto has = [](const json& actions, const char* a) {
    return std::find(actions.begin(), actions.end(), a) != actions.end();
  };
  CHECK_FALSE(has(detail["allowed_actions"], "complete_picking"));  // lines still open
  CHECK_FALSE(has(detail["allowed_actions"], "cancel"));            // the cloud's, not ours
  CHECK(detail["pick_walk"].size() == 2);
  auto picked = t.post("/api/v1/orders/FO-S/pick", {{"sku", "SKU-0002"}, {"quantity", 2}});
  REQUIRE(picked.status == 200);
  CHECK(t.post("/api/v1/orders/FO-S/short-pick",
               {{"line_no", 2}, {"quantity", 1}, {"reason", "stolen"}})
            .status == 422);
  auto shorted =
      t.post("/api/v1/orders/FO-S/short-pick",
             {{"line_no", 2}, {"quantity", 1}, {"reason", reference["short_pick_reasons"][0]}});
  REQUIRE(shorted.status == 200);
  CHECK(shorted.json()["lines"][1]["rejected"] == 1);
  CHECK(has(shorted.json()["allowed_actions"], "complete_picking"));
  REQUIRE(t.post("/api/v1/orders/FO-S/complete-picking", nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-S/pack", {{"packages",
                                               {{{"box_type", "S"},
                                                 {"weight_g", 500},
                                                 {"items", {{{"line_no", 1}, {"quantity", 2}}}}}}}})
              .status == 200);
  CHECK(t.post("/api/v1/orders/FO-S/ship", {{"carrier", "Owl"}}).status == 422);
  auto shipped = t.post("/api/v1/orders/FO-S/ship", {{"carrier", "DPD"}, {"tracking", "DPD-1"}});
  REQUIRE(shipped.status == 200);
  CHECK(shipped.json()["state"] == "shipped");

  // Five wrong pickup codes lock the order; only a manager unlocks it.
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-L/") + step, nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-L/pick", {{"sku", "SKU-0004"}}).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-L/complete-picking", nullptr).status == 200);
  auto ready = t.post("/api/v1/orders/FO-L/ready-for-pickup", nullptr);  // no shelf: none
  REQUIRE(ready.status == 200);
  CHECK(ready.json()["pickup_shelf"] == "");
  CHECK_FALSE(has(t.get("/api/v1/orders/FO-L").json()["allowed_actions"], "unlock_pickup"));
  for (int i = 0; i < 5; ++i)
    CHECK(t.post("/api/v1/orders/FO-L/collect", {{"code", "NOPE"}}).status == 422);
  auto locked = t.post("/api/v1/orders/FO-L/collect", {{"code", "NOPE"}});
  CHECK(locked.status == 423);
  CHECK(locked.error_code() == "pickup_locked");
  CHECK(t.get("/api/v1/orders/FO-L").json()["pickup_locked"] == true);
  CHECK(t.post("/api/v1/orders/FO-L/unlock-pickup", nullptr).status == 403);
  auto unlocked = m.post("/api/v1/orders/FO-L/unlock-pickup", nullptr);
  REQUIRE(unlocked.status == 200);
  CHECK(unlocked.json()["pickup_locked"] == false);
  const std::string code = unlocked.json()["pickup_code"];
  CHECK(t.post("/api/v1/orders/FO-L/collect", {{"code", code}}).json()["state"] == "collected");
}

TEST_CASE("managers' views: outbox, configuration with secrets masked, audit; demo pairing") {
  ApiServer s({"sync.enrolment_code=SECRET-123"}, true);
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  CHECK(t.get("/api/v1/outbox").status == 403);
  auto outbox = m.get("/api/v1/outbox").json();
  CHECK(outbox["pending"] > 0);  // the seeded catalog's stock events
  CHECK(outbox["dead_letters"].empty());
  auto config = m.get("/api/v1/config");
  REQUIRE(config.status == 200);
  CHECK(config.body.find("SECRET-123") == std::string::npos);
  CHECK(config.json()["effective"]["sync"]["enrolment_code"] == "(set)");
  CHECK(config.json()["remote_version"] == 0);
  CHECK(m.get("/api/v1/config/history").json()["configs"].empty());
  CHECK(t.get("/api/v1/config/history").status == 403);
  CHECK(t.get("/api/v1/audit").status == 403);
  CHECK(m.get("/api/v1/audit?limit=5").json()["entries"].size() <= 5);
  // The demo's pairing screen asks for a code (only in demo mode, see the next check).
  auto demo = ApiClient(s.port).post("/api/v1/demo/pairing-code", nullptr);
  REQUIRE(demo.status == 201);
  CHECK(ApiClient(s.port).post("/api/v1/pair", {{"code", demo.json()["code"]}}).status == 201);
  ApiServer normal;
  CHECK(ApiClient(normal.port).post("/api/v1/demo/pairing-code", nullptr).status == 404);
}

TEST_CASE("audit filters: who, action, order, time, refused only; bad filters refused") {
  ApiServer s;
  ApiClient a(s.port, s.pair("associate", "Counter 1"));
  ApiClient m(s.port, s.pair("manager", "Office"));
  const std::string associate =
      "terminal:" + a.get("/api/v1/session").json()["id"].get<std::string>();
  s.add_order("FO-A1", DeliveryMethod::ship, {{"SKU-0001", 1}});
  s.add_order("FO-A10", DeliveryMethod::ship, {{"SKU-0002", 1}});
  const auto before = agent::now_ms();
  REQUIRE(a.post("/api/v1/orders/FO-A1/accept", nullptr).status == 200);
  REQUIRE(a.post("/api/v1/orders/FO-A10/accept", nullptr).status == 200);
  CHECK(a.post("/api/v1/orders/FO-A1/accept", nullptr).status == 409);  // refused, audited
  REQUIRE(m.post("/api/v1/inventory/adjustments",
                 {{"sku", "SKU-0003"}, {"kind", "receipt"}, {"quantity", 1}})
              .status < 300);
  auto entries = [&](const std::string& query) {
    auto r = m.get("/api/v1/audit?" + query);
    REQUIRE(r.status == 200);
    return r.json()["entries"];
  };
  // FO-A1 is not FO-A10: the order filter matches the whole id.
  auto order = entries("order=FO-A1");
  REQUIRE(order.size() == 2);
  for (const auto& e : order) CHECK(e["action"] == "POST /api/v1/orders/FO-A1/accept");
  CHECK(order[0]["status"] == 409);  // newest first
  CHECK(entries("order=FO-A1&refused=1").size() == 1);
  auto mine = entries("actor=" + associate);
  REQUIRE(mine.size() == 4);  // its pairing and three accepts
  for (const auto& e : mine) CHECK(e["actor"] == associate);
  CHECK(mine[3]["action"] == "POST /api/v1/pair");
  auto adjust = entries("action=/inventory/");
  REQUIRE(adjust.size() == 1);
  CHECK(adjust[0]["role"] == "manager");
  CHECK(entries("since=" + std::to_string(before)).size() == 4);
  CHECK(entries("until=" + std::to_string(before)).size() >= 2);  // the two pairings
  for (const auto& e : entries("until=" + std::to_string(before))) CHECK(e["at"] < before);
  CHECK(entries("action=%25").empty());  // % is text, not a wildcard
  for (const char* bad : {"since=yesterday", "until=-5", "since=1e3", "limit=x"}) {
    auto r = m.get(std::string("/api/v1/audit?") + bad);
    CHECK(r.status == 400);
    CHECK(r.error_code() == "invalid_query");
  }
}

TEST_CASE("a dead letter is sent again on a manager's word, once") {
  ApiServer s;
  ApiClient a(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  const auto event = s.on_loop([&] {
    auto first = s.store->outbox().pending(1).at(0);
    s.store->outbox().mark_dead(first.event_id, "the cloud has no SKU-0001");
    return first;
  });
  auto outbox = m.get("/api/v1/outbox").json();
  REQUIRE(outbox["dead_letters"].size() == 1);
  CHECK(outbox["dead_letters"][0]["reason"] == "the cloud has no SKU-0001");
  CHECK(outbox.contains("link"));
  const auto path = "/api/v1/outbox/dead-letters/" + event.event_id + "/retry";
  CHECK(a.post(path, nullptr).status == 403);
  auto retried = m.post(path, nullptr);
  REQUIRE(retried.status == 200);
  CHECK(retried.json()["state"] == "pending");
  CHECK(retried.json()["seq"] == event.seq);
  CHECK(m.get("/api/v1/outbox").json()["dead_letters"].empty());
  auto again = m.post(path, nullptr);  // no longer dead: refused, nothing changed
  CHECK(again.status == 409);
  CHECK(again.body.find("not a dead letter") != std::string::npos);
  CHECK(m.post("/api/v1/outbox/dead-letters/nope/retry", nullptr).status == 404);
}

}  // namespace
}  // namespace fulfil::test

namespace fulfil::test {
namespace {

// What the daemon does with a read from a desk's scanner (the drivers have their own tests).
void hardware_scan(ApiServer& s, const std::string& station, const std::string& data) {
  s.on_loop([&] {
    s.api->hardware_scan({"desk-scanner", station, data, agent::now_ms()});
    return 0;
  });
}

json next_scan(EventSocket& ws) {
  for (int i = 0; i < 20; ++i) {
    auto m = ws.next(2s);
    if (!m) break;
    if ((*m)["type"] == "scan") return *m;
  }
  FAIL("no scan message arrived");
  return nullptr;
}

TEST_CASE("a station's hardware scans pick into its session and reach only its terminals") {
  ApiServer s;
  s.scanners =
      json::array({{{"id", "desk-scanner"}, {"station", "desk-1"}, {"state", "connected"}}});
  s.add_order("FO-H", DeliveryMethod::ship, {{"SKU-0005", 2}});
  s.add_order("FO-X", DeliveryMethod::ship, {{"SKU-0006", 1}});
  const auto token = s.pair("associate", "Desk 1", "desk-1");
  ApiClient desk(s.port, token);
  ApiClient other(s.port, s.pair("associate", "Desk 2", "desk-2"));
  EventSocket desk_events(s.port, token);
  EventSocket other_events(s.port, s.pair("associate", "Desk 2b", "desk-2"));

  // No session yet: the scan is shown to the desk, nothing is picked.
  const auto before = s.fingerprint_without_audit();
  hardware_scan(s, "desk-1", barcode_of(s, "SKU-0005"));
  auto idle = next_scan(desk_events);
  CHECK(idle["order_id"].is_null());
  CHECK(idle["scanner"] == "desk-scanner");
  CHECK(idle["data"] == barcode_of(s, "SKU-0005"));
  CHECK(s.fingerprint_without_audit() == before);

  // A session needs an order being picked, and a desk's terminal opens only its own desk's.
  auto refused =
      desk.send("PUT", "/api/v1/stations/desk-1/session", json{{"order_id", "FO-H"}}.dump());
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "illegal_transition");
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(desk.post(std::string("/api/v1/orders/FO-H/") + step, nullptr).status == 200);
  CHECK(other.send("PUT", "/api/v1/stations/desk-1/session", json{{"order_id", "FO-H"}}.dump())
            .status == 403);
  CHECK(desk.send("PUT", "/api/v1/stations/desk%201/session", json{{"order_id", "FO-H"}}.dump())
            .error_code() == "invalid_station");
  CHECK(desk.send("PUT", "/api/v1/stations/desk-1/session", json{{"order_id", "NOPE"}}.dump())
            .status == 404);
  CHECK(
      desk.send("PUT", "/api/v1/stations/desk-1/session", json{{"order", "FO-H"}}.dump()).status ==
      400);
  auto opened =
      desk.send("PUT", "/api/v1/stations/desk-1/session", json{{"order_id", "FO-H"}}.dump());
  REQUIRE(opened.status == 200);
  CHECK(opened.json()["session"]["order_ref"] == "REF-FO-H");

  auto stations = desk.get("/api/v1/stations").json()["stations"];
  REQUIRE(stations.size() == 2);  // desk-1 (scanner, terminal, session) and desk-2 (terminals)
  CHECK(stations[0]["station"] == "desk-1");
  CHECK(stations[0]["session"]["order_id"] == "FO-H");
  CHECK(stations[0]["scanners"][0]["id"] == "desk-scanner");
  CHECK(stations[1]["session"].is_null());

  // The scanner picks into the session: committed, audited, pushed to desk-1 only.
  hardware_scan(s, "desk-1", barcode_of(s, "SKU-0005"));
  auto picked = next_scan(desk_events);
  CHECK(picked["order_id"] == "FO-H");
  CHECK(picked["status"] == 200);
  CHECK(picked["result"]["line_picked"] == 1);
  CHECK(desk.get("/api/v1/orders/FO-H").json()["lines"][0]["picked"] == 1);
  hardware_scan(s, "desk-1", barcode_of(s, "SKU-0006"));
  auto wrong = next_scan(desk_events);
  CHECK(wrong["status"] == 422);
  CHECK(wrong["result"]["error"]["code"] == "wrong_item");
  hardware_scan(s, "desk-1", "]E0" + barcode_of(s, "SKU-0005"));  // with its AIM identifier
  CHECK(next_scan(desk_events)["result"]["line_picked"] == 2);
  hardware_scan(s, "desk-1", barcode_of(s, "SKU-0005"));
  CHECK(next_scan(desk_events)["result"]["error"]["code"] == "over_scan");
  CHECK(desk.get("/api/v1/orders/FO-H").json()["lines"][0]["picked"] == 2);
  auto audit = unix_request(s.socket, "GET", "/api/v1/audit?limit=5").json()["entries"];
  CHECK(audit[0]["actor"] == "device:desk-scanner");
  CHECK(audit[0]["action"] == "SCAN desk-1 order FO-H");
  for (int i = 0; i < 5; ++i)
    if (auto m = other_events.next(100ms)) CHECK((*m)["type"] != "scan");
  // An action barcode from the desk's sheet presses a button on the desk's terminals: it is
  // passed on as it is (AIM identifier and all), never tried as an item, and changes nothing.
  const auto before_action = s.on_loop([&] { return fingerprint(s.store->db()); });
  hardware_scan(s, "desk-1", "]C0*ACT-COMPLETE");
  auto action = next_scan(desk_events);
  CHECK(action["action"] == true);
  CHECK(action["order_id"] == "FO-H");  // the session, as it was
  CHECK(action["data"] == "]C0*ACT-COMPLETE");
  CHECK_FALSE(action.contains("status"));
  CHECK(s.on_loop([&] { return fingerprint(s.store->db()); }) == before_action);

  // Picking ends: the desk's next scan has no session any more.
  REQUIRE(desk.post("/api/v1/orders/FO-H/complete-picking", nullptr).status == 200);
  hardware_scan(s, "desk-1", barcode_of(s, "SKU-0005"));
  CHECK(next_scan(desk_events)["order_id"].is_null());
  CHECK(desk.get("/api/v1/stations").json()["stations"][0]["session"].is_null());
  CHECK(desk.send("DELETE", "/api/v1/stations/desk-1/session", "").status == 200);
  const auto metrics = ApiClient(s.port).get("/metrics").body;
  CHECK(metrics.find("result=\"no_session\"} 2") != std::string::npos);
}

// --- how long a desk session lives ------------------------------------------------------

// The station's session as GET /api/v1/stations reports it (null: none).
json desk_session(const ApiClient& t, const std::string& station) {
  const json stations = t.get("/api/v1/stations").json()["stations"];
  for (const auto& st : stations)
    if (st["station"] == station) return st["session"];
  return nullptr;
}

std::string terminal_id(const ApiClient& t) {
  return t.get("/api/v1/session").json()["id"];
}

void pick_at_desk(const ApiClient& t, const std::string& order_id, const std::string& station) {
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post("/api/v1/orders/" + order_id + "/" + step, nullptr).status == 200);
  REQUIRE(
      t.send("PUT", "/api/v1/stations/" + station + "/session", json{{"order_id", order_id}}.dump())
          .status == 200);
}

// Waits for the push that `station`'s session ended (generously: CI runs this under ASan and
// qemu); the ends of other stations' sessions seen on the way are added to `others`.
json wait_session_ended(EventSocket& ws, const std::string& station, std::vector<json>& others) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = ws.next(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!m) break;
    if ((*m)["type"] != "station_session" || !(*m)["session"].is_null()) continue;
    if ((*m)["station"] == station) return *m;
    others.push_back(*m);
  }
  FAIL("no push that the session of " << station << " ended");
  return nullptr;
}

TEST_CASE("a desk session lives while its terminal is connected, a grace longer; not if revoked") {
  ApiServer s({"api.desk_session_grace_s=3"});
  for (const char* id : {"FO-A", "FO-B", "FO-C", "FO-D"})
    s.add_order(id, DeliveryMethod::ship, {{"SKU-0005", 1}});
  const auto a_token = s.pair("associate", "Desk 1", "desk-1");
  const auto b_token = s.pair("associate", "Desk 2", "desk-2");
  const auto c_token = s.pair("associate", "Desk 3", "desk-3");
  const ApiClient a(s.port, a_token), b(s.port, b_token), c(s.port, c_token);
  EventSocket watcher(s.port, s.pair("associate", "Desk 1 second tablet", "desk-1"));
  auto a_events = std::make_unique<EventSocket>(s.port, a_token);
  auto b_events = std::make_unique<EventSocket>(s.port, b_token);
  EventSocket c_events(s.port, c_token);
  pick_at_desk(a, "FO-A", "desk-1");
  pick_at_desk(b, "FO-B", "desk-2");
  pick_at_desk(c, "FO-C", "desk-3");
  // fulfilctl's session belongs to no terminal: nothing ends it but a close.
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(unix_request(s.socket, "POST", std::string("/api/v1/orders/FO-D/") + step).status ==
            200);
  REQUIRE(unix_request(s.socket, "PUT", "/api/v1/stations/desk-4/session",
                       json{{"order_id", "FO-D"}}.dump())
              .status == 200);
  CHECK(desk_session(a, "desk-1")["closes_at"].is_null());

  // A's page reloads: its WebSocket goes, the session waits, and A is back in time.
  a_events.reset();
  REQUIRE(eventually(60s, [&] { return desk_session(a, "desk-1")["closes_at"].is_number(); }));
  a_events = std::make_unique<EventSocket>(s.port, a_token);
  CHECK(desk_session(a, "desk-1")["closes_at"].is_null());

  // B's browser is closed for good: one grace later its session ends, pushed to the desks'
  // terminals, while A's (whose grace would have run out first) is still open.
  b_events.reset();
  std::vector<json> others;
  const json ended = wait_session_ended(watcher, "desk-2", others);
  CHECK(ended["reason"] == "terminal_disconnected");
  CHECK(ended["ended"]["order_id"] == "FO-B");
  CHECK(ended["ended"]["opened_by"] == "terminal:" + terminal_id(b));
  CHECK(desk_session(a, "desk-2").is_null());
  const json kept = desk_session(a, "desk-1");
  CHECK(kept["order_id"] == "FO-A");
  CHECK(kept["closes_at"].is_null());
  // Nobody is picking FO-B any more: its claim is free for the next associate; A keeps FO-A.
  CHECK(a.get("/api/v1/orders/FO-B").json()["claim"].is_null());
  CHECK(a.get("/api/v1/orders/FO-A").json()["claim"]["mine"] == true);
  const auto audit = unix_request(s.socket, "GET", "/api/v1/audit?limit=1").json()["entries"];
  CHECK(audit[0]["actor"] == "system:desk-sessions");
  CHECK(audit[0]["detail"] == "terminal_disconnected");
  CHECK(audit[0]["action"] ==
        "END station desk-2 session on FO-B of terminal:" + terminal_id(b) + ", claim released");

  // C is revoked: its session ends at once, not a grace later.
  REQUIRE(unix_request(s.socket, "DELETE", "/api/v1/terminals/" + terminal_id(c)).status == 200);
  const json revoked = wait_session_ended(watcher, "desk-3", others);
  CHECK(revoked["reason"] == "terminal_revoked");
  CHECK(revoked["ended"]["order_id"] == "FO-C");

  // More than a grace has passed since fulfilctl opened desk-4's: it is still there.
  CHECK(desk_session(a, "desk-4")["order_id"] == "FO-D");
  CHECK(desk_session(a, "desk-4")["closes_at"].is_null());
  CHECK(others.empty());
}

TEST_CASE("after a restart a desk session waits one grace for its terminal to reconnect") {
  ApiServer s({"api.desk_session_grace_s=3"});
  for (const char* id : {"FO-A", "FO-B"}) s.add_order(id, DeliveryMethod::ship, {{"SKU-0005", 1}});
  const auto a_token = s.pair("associate", "Desk 1", "desk-1");
  const auto b_token = s.pair("associate", "Desk 2", "desk-2");
  const auto watch_token = s.pair("associate", "Desk 1 second tablet", "desk-1");
  std::string b_id;
  {
    // Connected while fulfild stops: neither terminal left before the restart.
    EventSocket a_events(s.port, a_token), b_events(s.port, b_token);
    pick_at_desk(ApiClient(s.port, a_token), "FO-A", "desk-1");
    pick_at_desk(ApiClient(s.port, b_token), "FO-B", "desk-2");
    b_id = terminal_id(ApiClient(s.port, b_token));
    s.restart();
  }
  EventSocket watcher(s.port, watch_token);
  EventSocket a_events(s.port, a_token);  // A's page reconnects; B's never does
  const ApiClient a(s.port, a_token);
  CHECK(desk_session(a, "desk-1")["closes_at"].is_null());
  CHECK(desk_session(a, "desk-2")["closes_at"].is_number());
  std::vector<json> others;
  const json ended = wait_session_ended(watcher, "desk-2", others);
  CHECK(ended["reason"] == "terminal_disconnected");
  CHECK(ended["ended"]["opened_by"] == "terminal:" + b_id);
  CHECK(desk_session(a, "desk-1")["order_id"] == "FO-A");
  CHECK(others.empty());
}

}  // namespace
}  // namespace fulfil::test

namespace fulfil::test {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Waits until the job reaches `state` (the spooler runs on the server's loop).
json wait_for_job(ApiClient& t, const std::string& id, const std::string& state) {
  json job;
  for (int i = 0; i < 200; ++i) {
    job = t.get("/api/v1/print-jobs/" + id).json();
    if (job["state"] == state) break;
    std::this_thread::sleep_for(20ms);
  }
  return job;
}

TEST_CASE("packing prints the station's documents; jobs are tracked, reprinted, cancelled") {
  TempDir labels;
  const json printers = json::array(
      {{{"id", "desk1-zebra"}, {"kind", "file"}, {"language", "zpl"}, {"directory", labels.path()}},
       {{"id", "office-laser"},
        {"kind", "file"},
        {"language", "pdf"},
        {"directory", labels.path()}}});
  const json stations = json::array(
      {{{"id", "desk-1"},
        {"documents", {{"shipping_label", "desk1-zebra"}, {"packing_slip", "office-laser"}}}}});
  ApiServer s({"printers=" + printers.dump(), "stations=" + stations.dump()});
  s.add_order("FO-P", DeliveryMethod::ship, {{"SKU-0007", 1}});
  s.add_order("FO-Q", DeliveryMethod::ship, {{"SKU-0008", 1}});
  ApiClient t(s.port, s.pair("associate", "Desk 1", "desk-1"));
  ApiClient roaming(s.port, s.pair("associate", "Tablet"));
  ApiClient m(s.port, s.pair("manager"));
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-P/") + step, nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-P/scan", {{"barcode", barcode_of(s, "SKU-0007")}}).status ==
          200);
  REQUIRE(t.post("/api/v1/orders/FO-P/complete-picking", nullptr).status == 200);
  auto packed = t.post(
      "/api/v1/orders/FO-P/pack",
      {{"packages",
        {{{"box_type", "S"}, {"weight_g", 800}, {"items", {{{"line_no", 1}, {"quantity", 1}}}}}}}});
  REQUIRE_MESSAGE(packed.status == 200, packed.body);
  const auto printed = packed.json()["printing"];
  REQUIRE(printed["jobs"].size() == 2);
  CHECK(printed["problems"].empty());
  CHECK(printed["jobs"][0]["kind"] == "shipping_label");
  CHECK(printed["jobs"][0]["printer"] == "desk1-zebra");
  CHECK(printed["jobs"][1]["format"] == "pdf");

  const std::string label_id = printed["jobs"][0]["id"];
  auto label = wait_for_job(t, label_id, "printed");
  REQUIRE_MESSAGE(label["state"] == "printed", label.dump());
  CHECK(wait_for_job(t, printed["jobs"][1]["id"], "printed")["state"] == "printed");
  // The file printer holds exactly the document the queue committed.
  std::string zpl;
  for (const auto& f : std::filesystem::directory_iterator(labels.path()))
    if (f.path().filename().string().starts_with(label_id)) zpl = read_all(f.path().string());
  CHECK(zpl.starts_with("^XA"));
  CHECK(zpl.find("REF-FO-P") != std::string::npos);

  // Reprint by id: a new job with the same bytes; a printed job cannot be cancelled.
  auto again = t.post("/api/v1/print-jobs/" + label_id + "/reprint", json::object());
  REQUIRE(again.status == 202);
  CHECK(again.json()["reprint_of"] == label_id);
  CHECK(wait_for_job(t, again.json()["id"], "printed")["state"] == "printed");
  CHECK(t.post("/api/v1/print-jobs/" + label_id + "/cancel", nullptr).error_code() ==
        "illegal_transition");
  CHECK(t.post("/api/v1/print-jobs/PJ-999/reprint", nullptr).status == 404);
  CHECK(t.post("/api/v1/print-jobs/nonsense/reprint", nullptr).status == 404);
  auto listed = t.get("/api/v1/print-jobs?order_id=FO-P").json()["jobs"];
  CHECK(listed.size() == 3);
  CHECK(t.get("/api/v1/print-jobs?state=lost").status == 400);

  // What cannot be printed is refused and queues nothing.
  const auto before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/orders/FO-P/print", {{"kind", "flyer"}}).status == 422);
  CHECK(t.post("/api/v1/orders/FO-P/print", {{"kind", "pick_list"}}).error_code() ==
        "invalid_argument");  // desk-1 has no printer for pick lists
  CHECK(roaming.post("/api/v1/orders/FO-P/print", {{"kind", "packing_slip"}}).status == 422);
  CHECK(
      t.post("/api/v1/orders/FO-P/print", {{"kind", "packing_slip"}, {"printer", "nope"}}).status ==
      404);
  CHECK(t.post("/api/v1/orders/FO-P/print", {{"kind", "packing_slip"}, {"copies", 0}}).status ==
        422);
  CHECK(s.fingerprint_without_audit() == before);
  // A roaming terminal names the printer.
  auto named = roaming.post("/api/v1/orders/FO-P/print",
                            {{"kind", "pick_list"}, {"printer", "office-laser"}, {"copies", 2}});
  REQUIRE(named.status == 202);
  CHECK(named.json()["jobs"][0]["copies"] == 2);

  // Documents for inspection, and the printers' state.
  auto pdf = t.get("/api/v1/orders/FO-P/documents/packing_slip?format=pdf");
  CHECK(pdf.status == 200);
  CHECK(pdf.body.starts_with("%PDF"));
  CHECK(t.get("/api/v1/orders/FO-P/documents/packing_slip?format=html").status == 422);
  auto ps = t.get("/api/v1/printers").json();
  REQUIRE(ps["printers"].size() == 2);
  CHECK(ps["printers"][0]["id"] == "desk1-zebra");
  CHECK(t.post("/api/v1/printers/desk1-zebra/test", nullptr).status == 403);
  auto test = m.post("/api/v1/printers/desk1-zebra/test", nullptr);
  REQUIRE(test.status == 202);
  CHECK(wait_for_job(m, test.json()["id"], "printed")["kind"] == "test_label");
}

TEST_CASE("one terminal picks an order: others are refused by name, a manager releases it") {
  ApiServer s;
  s.add_order("FO-C", DeliveryMethod::ship, {{"SKU-0007", 2}, {"SKU-0008", 1}});
  ApiClient anna(s.port, s.pair("associate", "Anna's tablet"));
  ApiClient ben(s.port, s.pair("associate", "Ben's phone"));
  const auto manager_token = s.pair("manager", "Back office");
  ApiClient m(s.port, manager_token);
  EventSocket manager_events(s.port, manager_token);
  REQUIRE(anna.post("/api/v1/orders/FO-C/accept", nullptr).status == 200);
  CHECK(anna.get("/api/v1/orders/FO-C").json()["claim"].is_null());  // nobody picks yet

  auto started = anna.post("/api/v1/orders/FO-C/start-picking", nullptr);
  REQUIRE(started.status == 200);
  CHECK(started.json()["claim"]["holder_name"] == "Anna's tablet");
  CHECK(started.json()["claim"]["mine"] == true);
  CHECK(ben.get("/api/v1/orders/FO-C").json()["claim"]["mine"] == false);

  // Ben's scans, picks, short picks and completion are refused and change nothing.
  const auto before = s.fingerprint_without_audit();
  auto refused = ben.post("/api/v1/orders/FO-C/scan", {{"barcode", barcode_of(s, "SKU-0007")}});
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "claimed");
  CHECK(refused.json()["error"]["message"].get<std::string>().find("Anna's tablet") !=
        std::string::npos);
  CHECK(ben.post("/api/v1/orders/FO-C/pick", {{"sku", "SKU-0007"}, {"quantity", 1}}).error_code() ==
        "claimed");
  CHECK(ben.post("/api/v1/orders/FO-C/short-pick",
                 {{"line_no", 2}, {"quantity", 1}, {"reason", "not_found"}})
            .error_code() == "claimed");
  CHECK(s.fingerprint_without_audit() == before);
  // Anna goes on picking.
  CHECK(anna.post("/api/v1/orders/FO-C/scan", {{"barcode", barcode_of(s, "SKU-0007")}}).status ==
        200);

  // Only a manager releases; then the next terminal to pick takes the order.
  CHECK(ben.post("/api/v1/orders/FO-C/release-claim", nullptr).status == 403);
  auto released = m.post("/api/v1/orders/FO-C/release-claim", nullptr);
  REQUIRE(released.status == 200);
  CHECK(released.json()["claim"].is_null());
  bool pushed = false;
  for (int i = 0; i < 20 && !pushed; ++i) {
    auto msg = manager_events.next(2s);
    if (!msg) break;
    pushed = (*msg)["type"] == "claim" && (*msg)["order_id"] == "FO-C";
  }
  CHECK(pushed);  // terminals showing the order learn at once
  CHECK(m.post("/api/v1/orders/FO-C/release-claim", nullptr).status == 200);  // idempotent
  CHECK(m.post("/api/v1/orders/NOPE/release-claim", nullptr).status == 404);
  auto taken = ben.post("/api/v1/orders/FO-C/scan", {{"barcode", barcode_of(s, "SKU-0007")}});
  REQUIRE(taken.status == 200);
  CHECK(taken.json()["order"]["claim"]["holder_name"] == "Ben's phone");
  CHECK(
      anna.post("/api/v1/orders/FO-C/pick", {{"sku", "SKU-0008"}, {"quantity", 1}}).error_code() ==
      "claimed");

  // The claim ends with picking; the picker is on every pick event for the cloud.
  REQUIRE(ben.post("/api/v1/orders/FO-C/pick", {{"sku", "SKU-0008"}, {"quantity", 1}}).status ==
          200);
  auto done = ben.post("/api/v1/orders/FO-C/complete-picking", nullptr);
  REQUIRE(done.status == 200);
  CHECK(done.json()["claim"].is_null());
  const auto pickers = s.on_loop([&] {
    std::vector<std::string> out;
    for (const auto& e : s.store->outbox().since(0, 100))
      if (e.type == "order.item_picked") out.push_back(json::parse(e.payload)["actor"]);
    return out;
  });
  REQUIRE(pickers.size() == 3);
  CHECK(pickers[0].rfind("terminal:", 0) == 0);
  CHECK(pickers[0] != pickers[1]);  // Anna's pick, then Ben's
  CHECK(pickers[1] == pickers[2]);
}

TEST_CASE("a refused step says where the order is and what comes next, in words") {
  ApiServer s;
  s.add_order("FO-W", DeliveryMethod::ship, {{"SKU-0009", 1}});
  ApiClient t(s.port, s.pair("associate"));
  REQUIRE(t.post("/api/v1/orders/FO-W/accept", nullptr).status == 200);
  auto refused = t.post("/api/v1/orders/FO-W/scan", {{"barcode", barcode_of(s, "SKU-0009")}});
  CHECK(refused.error_code() == "illegal_transition");
  CHECK(refused.json()["error"]["message"] ==
        "Order REF-FO-W is accepted, not being picked yet: it cannot have items picked. Next: "
        "start picking, short pick, unaccept, reject.");
}

TEST_CASE("undo over HTTP: accept in part, unaccept, unpack, reject after picking started") {
  ApiServer s;
  s.add_order("FO-A", DeliveryMethod::ship, {{"SKU-0001", 3}, {"SKU-0002", 1}});
  s.add_order("FO-U", DeliveryMethod::ship, {{"SKU-0003", 2}});
  s.add_order("FO-K", DeliveryMethod::ship, {{"SKU-0004", 1}});
  s.add_order("FO-J", DeliveryMethod::pickup, {{"SKU-0005", 2}});
  ApiClient t(s.port, s.pair("associate"));
  auto reserved = [&](const char* sku) {
    return s.on_loop([&] { return s.store->inventory().level(sku)->reserved; });
  };
  auto has = [](const json& actions, const char* a) {
    return std::find(actions.begin(), actions.end(), a) != actions.end();
  };

  // Accept in part: bad bodies are refused and change nothing.
  const auto before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/orders/FO-A/accept", {{"lines", {{{"line_no", 1}, {"quantity", -1}}}}})
            .error_code() == "invalid_field");
  CHECK(t.post("/api/v1/orders/FO-A/accept", {{"lines", {{{"line_no", 1}}}}}).error_code() ==
        "missing_field");
  CHECK(
      t.post("/api/v1/orders/FO-A/accept", {{"lines", json::array()}, {"why", "x"}}).error_code() ==
      "unknown_field");
  auto none =
      t.post("/api/v1/orders/FO-A/accept",
             {{"lines", {{{"line_no", 1}, {"quantity", 0}}, {{"line_no", 2}, {"quantity", 0}}}},
              {"reason", "out_of_stock"}});
  CHECK(none.status == 422);
  CHECK(none.body.find("reject the order instead") != std::string::npos);
  CHECK(t.post("/api/v1/orders/FO-A/accept", {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}})
            .error_code() == "invalid_argument");  // no reason for the two rejected units
  CHECK(s.fingerprint_without_audit() == before);
  auto part = t.post("/api/v1/orders/FO-A/accept",
                     {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}, {"reason", "out_of_stock"}});
  REQUIRE(part.status == 200);
  CHECK(part.json()["state"] == "accepted");
  CHECK(part.json()["lines"][0]["rejected"] == 2);
  CHECK(part.json()["lines"][0]["reject_reason"] == "out_of_stock");
  CHECK(part.json()["lines"][1]["rejected"] == 0);
  CHECK(reserved("SKU-0001") == 1);
  CHECK(reserved("SKU-0002") == 1);
  CHECK(has(part.json()["allowed_actions"], "unaccept"));

  // Unaccept: back to routed, reservations released, the deadline kept.
  REQUIRE(t.post("/api/v1/orders/FO-U/accept", nullptr).status == 200);
  const auto accept_by = t.get("/api/v1/orders/FO-U").json()["accept_by"];
  CHECK(reserved("SKU-0003") == 2);
  auto unaccepted = t.post("/api/v1/orders/FO-U/unaccept", nullptr);
  REQUIRE(unaccepted.status == 200);
  CHECK(unaccepted.json()["state"] == "routed");
  CHECK(unaccepted.json()["accept_by"] == accept_by);
  CHECK(reserved("SKU-0003") == 0);
  CHECK(t.post("/api/v1/orders/FO-U/unaccept", nullptr).error_code() == "illegal_transition");
  CHECK(t.post("/api/v1/orders/FO-U/unaccept", {{"x", 1}}).error_code() == "unknown_field");

  // Unpack: back to picked, the packages gone, the units still reserved.
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-K/") + step, nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-K/pick", {{"sku", "SKU-0004"}}).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-K/complete-picking", nullptr).status == 200);
  CHECK(t.post("/api/v1/orders/FO-K/unpack", nullptr).error_code() == "illegal_transition");
  auto packed = t.post(
      "/api/v1/orders/FO-K/pack",
      {{"packages",
        {{{"box_type", "S"}, {"weight_g", 500}, {"items", {{{"line_no", 1}, {"quantity", 1}}}}}}}});
  REQUIRE(packed.status == 200);
  CHECK(has(packed.json()["allowed_actions"], "unpack"));
  auto unpacked = t.post("/api/v1/orders/FO-K/unpack", nullptr);
  REQUIRE(unpacked.status == 200);
  CHECK(unpacked.json()["state"] == "picked");
  CHECK(unpacked.json()["packages"].empty());
  CHECK(reserved("SKU-0004") == 1);

  // Reject while picking: the picked unit goes back, the claim ends.
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-J/") + step, nullptr).status == 200);
  auto picking = t.post("/api/v1/orders/FO-J/pick", {{"sku", "SKU-0005"}});
  REQUIRE(picking.status == 200);
  CHECK(has(picking.json()["allowed_actions"], "reject"));
  auto rejected = t.post("/api/v1/orders/FO-J/reject", {{"reason", "other"}});
  REQUIRE(rejected.status == 200);
  CHECK(rejected.json()["state"] == "rejected");
  CHECK(rejected.json()["lines"][0]["picked"] == 1);
  CHECK(rejected.json()["claim"].is_null());
  CHECK(reserved("SKU-0005") == 0);
  CHECK(s.on_loop([&] { return invariant_violations(s.store->db()); }).empty());
}

// A PDF's text as poppler's pdftotext extracts it (nothing where the tool is missing).
std::optional<std::string> pdf_text(const TempDir& dir, const std::string& name,
                                    const std::string& pdf) {
#ifdef FULFIL_PDFTOTEXT
  const std::string file = dir.path() + "/" + name + ".pdf";
  std::ofstream(file, std::ios::binary) << pdf;
  ChildProcess tool(FULFIL_PDFTOTEXT, {"-layout", file, "-"}, {}, false);
  REQUIRE(tool.wait(10s) == 0);
  return tool.stdout_text();
#else
  (void)dir, (void)name, (void)pdf;
  return std::nullopt;
#endif
}

TEST_CASE("no document of a pickup order shows its pickup code; the shelf label names the shelf") {
  TempDir labels;
  const json printers = json::array(
      {{{"id", "desk1-zebra"}, {"kind", "file"}, {"language", "zpl"}, {"directory", labels.path()}},
       {{"id", "office-laser"},
        {"kind", "file"},
        {"language", "pdf"},
        {"directory", labels.path()}}});
  const json stations =
      json::array({{{"id", "desk-1"}, {"documents", {{"pickup_shelf_label", "desk1-zebra"}}}}});
  ApiServer s({"printers=" + printers.dump(), "stations=" + stations.dump()});
  s.add_order("FO-K", DeliveryMethod::pickup, {{"SKU-0005", 2}, {"SKU-0006", 1}});
  ApiClient t(s.port, s.pair("associate", "Desk 1", "desk-1"));
  ApiClient m(s.port, s.pair("manager"));
  for (const char* step : {"accept", "start-picking"})
    REQUIRE(t.post(std::string("/api/v1/orders/FO-K/") + step, nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-K/pick", {{"sku", "SKU-0005"}, {"quantity", 2}}).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-K/pick", {{"sku", "SKU-0006"}}).status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-K/complete-picking", nullptr).status == 200);
  auto ready = t.post("/api/v1/orders/FO-K/ready-for-pickup", {{"shelf", "P-07"}});
  REQUIRE(ready.status == 200);
  const auto printed = ready.json()["printing"];
  REQUIRE(printed["jobs"].size() == 1);
  CHECK(printed["jobs"][0]["kind"] == "pickup_shelf_label");
  const std::string code = m.get("/api/v1/orders/FO-K").json()["pickup_code"];
  REQUIRE(code.size() == 6);

  // The label the station printed: the order number, the shelf, the order id as its one
  // barcode, and not the code.
  const std::string job = printed["jobs"][0]["id"];
  REQUIRE(wait_for_job(t, job, "printed")["state"] == "printed");
  std::string label;
  for (const auto& f : std::filesystem::directory_iterator(labels.path()))
    if (f.path().filename().string().starts_with(job)) label = read_all(f.path().string());
  REQUIRE(label.starts_with("^XA"));
  CHECK(label.find("^FDOrder REF-FO-K^FS") != std::string::npos);
  CHECK(label.find("^FDShelf P-07^FS") != std::string::npos);
  CHECK(label.find("^BCN,200,N,N,N^FH_^FDFO-K^FS") != std::string::npos);
  CHECK(label.find(code) == std::string::npos);

  // Every kind, in both formats, as an associate may fetch it.
  int rendered = 0;
  for (const char* kind :
       {"shipping_label", "packing_slip", "pick_list", "pickup_shelf_label", "return_label"}) {
    for (const char* format : {"zpl", "pdf"}) {
      CAPTURE(kind);
      CAPTURE(format);
      auto doc = t.get(std::string("/api/v1/orders/FO-K/documents/") + kind + "?format=" + format +
                       "&return_ref=R-1");
      // A pickup order has no delivery address for a shipping label: refused, nothing shown.
      if (std::string(kind) == "shipping_label") {
        CHECK(doc.status == 422);
        continue;
      }
      REQUIRE(doc.status == 200);
      ++rendered;
      // ZPL is text; a PDF's text is in compressed streams, so it is read back with poppler.
      if (std::string(format) == "zpl") CHECK(doc.body.find(code) == std::string::npos);
      if (std::string(format) == "pdf") {
        const auto text = pdf_text(labels, std::string(kind), doc.body);
        if (!text) continue;
        CHECK(text->find(code) == std::string::npos);
        if (std::string(kind) == "pickup_shelf_label") {
          CHECK(text->find("Order REF-FO-K") != std::string::npos);
          CHECK(text->find("Shelf P-07") != std::string::npos);
        }
      }
    }
  }
  CHECK(rendered == 8);
}

TEST_CASE("ship with a tracking number per package; the manifest keeps working") {
  ApiServer s;
  s.add_order("FO-T", DeliveryMethod::ship, {{"SKU-0009", 1}, {"SKU-0010", 1}});
  s.add_order("FO-U", DeliveryMethod::ship, {{"SKU-0011", 1}});
  ApiClient t(s.port, s.pair("associate"));
  for (const char* id : {"FO-T", "FO-U"}) {
    for (const char* step : {"accept", "start-picking"})
      REQUIRE(t.post(std::string("/api/v1/orders/") + id + "/" + step, nullptr).status == 200);
    auto o = t.get(std::string("/api/v1/orders/") + id).json();
    for (const auto& l : o["lines"])
      REQUIRE(t.post(std::string("/api/v1/orders/") + id + "/pick", {{"sku", l["sku"]}}).status ==
              200);
    REQUIRE(t.post(std::string("/api/v1/orders/") + id + "/complete-picking", nullptr).status ==
            200);
  }
  REQUIRE(t.post("/api/v1/orders/FO-T/pack", {{"packages",
                                               {{{"box_type", "S"},
                                                 {"weight_g", 300},
                                                 {"items", {{{"line_no", 1}, {"quantity", 1}}}}},
                                                {{"box_type", "S"},
                                                 {"weight_g", 200},
                                                 {"items", {{{"line_no", 2}, {"quantity", 1}}}}}}}})
              .status == 200);
  REQUIRE(t.post("/api/v1/orders/FO-U/pack", {{"packages",
                                               {{{"box_type", "S"},
                                                 {"weight_g", 300},
                                                 {"items", {{{"line_no", 1}, {"quantity", 1}}}}}}}})
              .status == 200);

  // Refused, naming the problem, changing nothing.
  const auto before = s.fingerprint_without_audit();
  const auto refused = [&](const json& packages, const std::string& code, const std::string& says) {
    CAPTURE(packages.dump());
    auto r = t.post("/api/v1/orders/FO-T/ship", {{"carrier", "DPD"}, {"packages", packages}});
    CHECK(r.status == 422);
    CHECK(r.error_code() == code);
    CHECK_MESSAGE(r.body.find(says) != std::string::npos, r.body);
  };
  refused({{{"package_no", 3}, {"tracking", "X3"}}}, "invalid_argument", "has no package 3");
  refused({{{"package_no", 1}, {"tracking", "X1"}}, {{"package_no", 1}, {"tracking", "X2"}}},
          "invalid_argument", "more than once");
  refused({{{"package_no", 1}, {"tracking", std::string(65, 'X')}}}, "invalid_field",
          "packages[0].tracking");
  refused({{{"package_no", 1}}}, "missing_field", "packages[0].tracking");
  CHECK(t.post("/api/v1/orders/FO-T/ship",
               {{"carrier", "DPD"},
                {"packages", {{{"package_no", 1}, {"tracking", "X"}, {"box", "S"}}}}})
            .error_code() == "unknown_field");
  refused(json::object(), "invalid_field", "packages");
  CHECK(s.fingerprint_without_audit() == before);

  auto shipped = t.post(
      "/api/v1/orders/FO-T/ship",
      {{"carrier", "DPD"},
       {"packages",
        {{{"package_no", 2}, {"tracking", "DPD-2"}}, {{"package_no", 1}, {"tracking", "DPD-1"}}}}});
  REQUIRE_MESSAGE(shipped.status == 200, shipped.body);
  const auto o = shipped.json();
  CHECK(o["tracking"] == "DPD-1");  // the order's: its first package's
  CHECK(o["packages"][0]["tracking"] == "DPD-1");
  CHECK(o["packages"][1]["tracking"] == "DPD-2");
  const auto event = s.on_loop([&] { return last_event(s.store->db(), "order.shipped"); });
  CHECK(event["packages"] == json::array({{{"package_no", 1}, {"tracking", "DPD-1"}},
                                          {{"package_no", 2}, {"tracking", "DPD-2"}}}));

  // The manifest with one number for an order, as before.
  auto manifest =
      t.post("/api/v1/manifests",
             {{"carrier", "DPD"}, {"parcels", {{{"order_id", "FO-U"}, {"tracking", "DPD-U"}}}}});
  REQUIRE_MESSAGE(manifest.status == 201, manifest.body);
  CHECK(manifest.json()["parcels"][0]["tracking"] == "DPD-U");
  const auto u = t.get("/api/v1/orders/FO-U").json();
  CHECK(u["tracking"] == "DPD-U");
  CHECK(u["packages"][0]["tracking"] == "");
}

// Routes an order with the customer and reference a search looks at, a millisecond or
// more after the one before (the queue's order is routing time, then id).
void add_customer_order(ApiServer& s, const std::string& id, const std::string& ref,
                        const std::string& name, const std::string& phone, DeliveryMethod m,
                        std::vector<std::pair<std::string, std::int64_t>> lines) {
  static std::int64_t last = 0;
  last = std::max(agent::now_ms(), last + 1);
  s.on_loop([&] {
    auto o = make_order(id, m, lines);
    o.order_ref = ref;
    o.customer = {name, "", phone};
    o.accept_by = last + 3'600'000;
    REQUIRE(s.store->orders().receive(o, ctx(last)));
    return 0;
  });
}

std::vector<std::string> order_ids(const json& queue) {
  std::vector<std::string> out;
  for (const auto& o : queue["orders"]) out.push_back(o["id"]);
  return out;
}

using Ids = std::vector<std::string>;

TEST_CASE("the queue searches with q; method and state filter before the limit") {
  ApiServer s;
  ApiClient t(s.port, s.pair("associate"));
  // Routed in this order (the queue's order): three orders to ship, then two pickups.
  add_customer_order(s, "FO-S1", "W100001", "Ada Lovelace", "+44 20 7946-0958",
                     DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}});
  add_customer_order(s, "FO-S2", "W100002", "Grace Hopper", "", DeliveryMethod::ship,
                     {{"SKU-0003", 1}});
  add_customer_order(s, "FO-S3", "W200003", "Alan Turing", "", DeliveryMethod::ship,
                     {{"SKU-0003", 1}});
  add_customer_order(s, "FO-P1", "W100004", "Lovelace 100%_Ltd", "(030) 1234-5678",
                     DeliveryMethod::pickup, {{"SKU-0004", 3}});
  add_customer_order(s, "FO-P2", "W200005", "Katherine Johnson", "", DeliveryMethod::pickup,
                     {{"SKU-0005", 1}});

  auto all = t.get("/api/v1/orders").json();
  CHECK(order_ids(all) == Ids{"FO-S1", "FO-S2", "FO-S3", "FO-P1", "FO-P2"});
  CHECK(all["truncated"] == false);
  CHECK(all["orders"][0]["customer_name"] == "Ada Lovelace");
  CHECK(all["orders"][0]["lines"] == 2);
  CHECK(all["orders"][0]["units"] == 3);
  CHECK(all["counts"]["routed"] == 5);

  // The method is part of the query: limit counts pickups, not the first orders of all.
  auto pickups = t.get("/api/v1/orders?method=pickup&limit=1").json();
  CHECK(order_ids(pickups) == Ids{"FO-P1"});
  CHECK(pickups["truncated"] == true);
  CHECK(t.get("/api/v1/orders?method=pickup&limit=2").json()["truncated"] == false);
  CHECK(t.get("/api/v1/orders?limit=4").json()["truncated"] == true);

  auto q = [&](const std::string& text, const std::string& more = "") {
    auto r = t.get("/api/v1/orders?q=" + url_escape(text) + more);
    REQUIRE(r.status == 200);
    return order_ids(r.json());
  };
  CHECK(q("w1000") == Ids{"FO-S1", "FO-S2", "FO-P1"});
  CHECK(q("w1000", "&method=pickup") == Ids{"FO-P1"});
  CHECK(q("w1000", "&state=accepted").empty());
  CHECK(q("W100001") == Ids{"FO-S1"});
  CHECK(q("fo-p") == Ids{"FO-P1", "FO-P2"});
  CHECK(q("lovelace") == Ids{"FO-S1", "FO-P1"});
  CHECK(q("  TURING ") == Ids{"FO-S3"});
  CHECK(q("20 7946") == Ids{"FO-S1"});
  CHECK(q("12345678") == Ids{"FO-P1"});
  CHECK(q("SKU-0003") == Ids{"FO-S2", "FO-S3"});
  CHECK(q(barcode_of(s, "SKU-0004")) == Ids{"FO-P1"});
  auto first = t.get("/api/v1/orders?q=w&limit=2").json();
  CHECK(order_ids(first) == Ids{"FO-S1", "FO-S2"});
  CHECK(first["truncated"] == true);
  // Hostile text matches only itself.
  CHECK(q("%") == Ids{"FO-P1"});
  CHECK(q("_") == Ids{"FO-P1"});
  CHECK(q("' OR ''='").empty());
  CHECK(q("\"); --").empty());
  CHECK(q(std::string(100, 'x')).empty());
  CHECK(q("") == order_ids(all));  // a blank search box lists the queue
  CHECK(q("   ") == order_ids(all));

  // The queue's body is written as text: text needing escapes stays JSON.
  add_customer_order(s, "FO-E1", "W\"1\\", "Zoë \"Q\" \\ Smith", "", DeliveryMethod::ship,
                     {{"SKU-0006", 1}});
  auto escaped = t.get("/api/v1/orders?q=fo-e");
  REQUIRE(escaped.status == 200);
  auto e = escaped.json();  // throws on malformed JSON
  REQUIRE(e["orders"].size() == 1);
  CHECK(e["orders"][0]["customer_name"] == "Zoë \"Q\" \\ Smith");
  CHECK(e["orders"][0]["order_ref"] == "W\"1\\");
  CHECK(e.dump() == escaped.body);  // the bytes a json object's dump gives

  const auto before = s.fingerprint_without_audit();
  auto too_long = t.get("/api/v1/orders?q=" + std::string(101, 'x'));
  CHECK(too_long.status == 400);
  CHECK(too_long.error_code() == "invalid_query");
  CHECK(too_long.json()["error"]["message"].get<std::string>().find("at most 100") !=
        std::string::npos);
  CHECK(t.get("/api/v1/orders?method=drone").error_code() == "invalid_query");
  CHECK(s.fingerprint_without_audit() == before);
}

// Takes a one-line ship order from routed to packed in one box (on the server's loop).
void pack_one_line(agent::FulfilmentOrders& o, const std::string& id, const std::string& sku,
                   std::int64_t qty, const agent::CommandContext& c) {
  REQUIRE(o.accept(id, c));
  REQUIRE(o.start_picking(id, c));
  REQUIRE(o.pick_item(id, sku, qty, c));
  REQUIRE(o.complete_picking(id, c));
  REQUIRE(o.pack(id, {{1, "M", 500, {{1, qty}}}}, c));
}

TEST_CASE("lookup resolves a scanned code: order, order number, parcel, item, or nothing") {
  ApiServer s;
  ApiClient t(s.port, s.pair("associate"));
  add_customer_order(s, "FO-L1", "W555", "Ada", "", DeliveryMethod::ship, {{"SKU-0001", 1}});
  add_customer_order(s, "FO-L2", "W555", "Ada", "", DeliveryMethod::ship, {{"SKU-0002", 1}});
  s.on_loop([&] {
    auto& o = s.store->orders();
    const auto c = ctx(agent::now_ms());
    pack_one_line(o, "FO-L1", "SKU-0001", 1, c);
    REQUIRE(o.reject("FO-L2", "other", c));
    return 0;
  });
  auto look = [&](const std::string& code) {
    return t.get("/api/v1/lookup?code=" + url_escape(code));
  };

  auto by_id = look("FO-L2").json();
  CHECK(by_id["kind"] == "order");
  CHECK(by_id["matched"] == "order_id");
  CHECK(by_id["order_id"] == "FO-L2");
  CHECK(by_id["order_ref"] == "W555");
  CHECK(by_id["state"] == "rejected");
  CHECK_FALSE(by_id.contains("package_no"));
  // Two orders share the number: the newer one has ended, so the open one answers.
  auto by_ref = look(" w555\r\n").json();
  CHECK(by_ref["matched"] == "order_ref");
  CHECK(by_ref["order_id"] == "FO-L1");
  CHECK(by_ref["state"] == "packed");
  auto parcel = look("FO-L1-1").json();
  CHECK(parcel["kind"] == "order");
  CHECK(parcel["matched"] == "package");
  CHECK(parcel["order_id"] == "FO-L1");
  CHECK(parcel["package_no"] == 1);
  CHECK(look("FO-L1-2").status == 404);
  s.on_loop([&] {
    REQUIRE(s.store->orders().ship("FO-L1", "DHL", "JD0146000099", ctx(agent::now_ms())));
    return 0;
  });
  auto tracked = look("JD0146000099").json();
  CHECK(tracked["matched"] == "tracking");
  CHECK(tracked["order_id"] == "FO-L1");
  CHECK(tracked["state"] == "shipped");
  CHECK(tracked["package_no"] == 1);

  auto item = look(barcode_of(s, "SKU-0003")).json();
  CHECK(item["kind"] == "item");
  CHECK(item["matched"] == "barcode");
  CHECK(item["sku"] == "SKU-0003");
  CHECK(item["title"] == "Item SKU-0003");
  CHECK(item["bin"] == "A01-4");
  CHECK(look("SKU-0004").json()["matched"] == "sku");

  const auto before = s.fingerprint_without_audit();
  auto nothing = look("4006381333931");
  CHECK(nothing.status == 404);
  CHECK(nothing.error_code() == "not_found");
  CHECK(nothing.json()["error"]["message"] ==
        "nothing in this store is known by '4006381333931': not an order number, parcel or "
        "item barcode");
  for (const char* hostile : {"%", "_", "W55_", "' OR 1=1 --", "FO-L1-1' --"})
    CHECK(look(hostile).status == 404);
  CHECK(look(std::string(200, 'z')).status == 404);
  CHECK(look(std::string(201, 'z')).error_code() == "invalid_query");
  CHECK(t.get("/api/v1/lookup").error_code() == "invalid_query");
  CHECK(look("  ").error_code() == "invalid_query");
  CHECK(ApiClient(s.port).get("/api/v1/lookup?code=W555").status == 401);
  CHECK(s.fingerprint_without_audit() == before);
}

TEST_CASE("returns take the customer's order number; stock search by words says when cut") {
  ApiServer s;
  ApiClient t(s.port, s.pair("associate"));
  add_customer_order(s, "FO-RT", "W900", "Ada", "", DeliveryMethod::ship, {{"SKU-0001", 2}});
  s.on_loop([&] {
    auto& o = s.store->orders();
    const auto c = ctx(agent::now_ms());
    pack_one_line(o, "FO-RT", "SKU-0001", 2, c);
    REQUIRE(o.ship("FO-RT", "DHL", "", c));
    return 0;
  });
  auto line = json{{"sku", "SKU-0001"}, {"quantity", 1}, {"disposition", "restock"}};
  auto by_ref = t.post("/api/v1/returns", {{"order_id", "w900"}, {"lines", {line}}});
  REQUIRE(by_ref.status == 201);
  CHECK(by_ref.json()["order_id"] == "FO-RT");
  auto by_id = t.post("/api/v1/returns", {{"order_id", "FO-RT"}, {"lines", {line}}});
  REQUIRE(by_id.status == 201);
  CHECK(by_id.json()["order_id"] == "FO-RT");
  auto none = t.post("/api/v1/returns", {{"lines", {line}}});
  REQUIRE(none.status == 201);
  CHECK(none.json()["order_id"].is_null());
  const auto before = s.fingerprint_without_audit();
  auto unknown = t.post("/api/v1/returns", {{"order_id", "W9%"}, {"lines", {line}}});
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "not_found");
  CHECK(unknown.json()["error"]["message"] ==
        "no order of this store has the id or order number 'W9%'");
  auto too_many = t.post("/api/v1/returns", {{"order_id", "W900"}, {"lines", {line}}});
  CHECK(too_many.error_code() == "invalid_argument");  // 2 sold, 2 returned
  CHECK(s.fingerprint_without_audit() == before);

  // Stock: words in any order, and whether the list was cut at its 50.
  s.on_loop([&] {
    REQUIRE(s.store->inventory().upsert({"JKT-RED", "Red Denim Jacket", "C04-12", {}, 0},
                                        ctx(agent::now_ms())));
    return 0;
  });
  auto stock = [&](const std::string& text) {
    return t.get("/api/v1/inventory?q=" + url_escape(text));
  };
  auto denim = stock("denim red").json();
  REQUIRE(denim["items"].size() == 1);
  CHECK(denim["items"][0]["sku"] == "JKT-RED");
  CHECK(denim["truncated"] == false);
  CHECK(stock("c04-1").json()["items"][0]["sku"] == "JKT-RED");
  auto items = stock("item").json();  // 20 "Item SKU-00nn" SKUs
  CHECK(items["items"].size() == 20);
  CHECK(items["truncated"] == false);
  s.on_loop([&] {
    seed_catalog(*s.store, 60, 0);  // SKU-0001..0060
    return 0;
  });
  auto cut = stock("item").json();
  CHECK(cut["items"].size() == 50);
  CHECK(cut["truncated"] == true);
  CHECK(stock("%_'\"").json()["items"].empty());
  CHECK(stock("a b c d e f g h i").error_code() == "invalid_query");
  CHECK(stock(std::string(101, 'a')).error_code() == "invalid_query");
  CHECK(stock(" ").error_code() == "invalid_query");
}

TEST_CASE("proof of pickup: the code, who collected and a signature; a manager's ID check") {
  ApiServer s;
  s.add_order("FO-PK", DeliveryMethod::pickup, {{"SKU-0003", 1}});
  s.add_order("FO-PL", DeliveryMethod::pickup, {{"SKU-0004", 1}});
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  for (const char* id : {"FO-PK", "FO-PL"})
    s.on_loop([&] {
      auto& o = s.store->orders();
      const auto c = ctx(agent::now_ms());
      REQUIRE(o.accept(id, c));
      REQUIRE(o.start_picking(id, c));
      REQUIRE(o.pick_item(id, o.find(id)->lines[0].sku, 1, c));
      REQUIRE(o.complete_picking(id, c));
      REQUIRE(o.ready_for_pickup(id, "", c));
      return 0;
    });
  // A 1x1 PNG, as a terminal's signature pad would send (base64).
  const std::string png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJg"
      "gg==";
  const auto code = m.get("/api/v1/orders/FO-PK").json()["pickup_code"].get<std::string>();

  // Refused, changing nothing: both proofs at once, a signature that is not a PNG, an ID
  // check from an associate, an ID type or digits that make no sense.
  const auto before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/orders/FO-PK/collect",
               {{"code", code}, {"id_type", "passport"}, {"id_last_digits", "1234"}})
            .error_code() == "invalid_field");
  CHECK(
      t.post("/api/v1/orders/FO-PK/collect", {{"code", code}, {"signature_png_base64", "aGVsbG8="}})
          .error_code() == "invalid_argument");
  CHECK(t.post("/api/v1/orders/FO-PK/collect", {{"code", code}, {"signature_png_base64", "%%"}})
            .error_code() == "invalid_field");
  CHECK(
      t.post("/api/v1/orders/FO-PL/collect", {{"id_type", "passport"}, {"id_last_digits", "1234"}})
          .status == 403);
  CHECK(m.post("/api/v1/orders/FO-PL/collect",
               {{"id_type", "library_card"}, {"id_last_digits", "12"}})
            .error_code() == "invalid_argument");
  CHECK(
      m.post("/api/v1/orders/FO-PL/collect", {{"id_type", "passport"}, {"id_last_digits", "12-4"}})
          .error_code() == "invalid_argument");
  CHECK(s.fingerprint_without_audit() == before);

  // The code, collected by a neighbour, signed.
  auto done =
      t.post("/api/v1/orders/FO-PK/collect",
             {{"code", code}, {"collected_by", "Sam (neighbour)"}, {"signature_png_base64", png}});
  REQUIRE_MESSAGE(done.status == 200, done.body);
  CHECK(done.json()["state"] == "collected");
  CHECK(done.json()["pickup_proof"]["method"] == "code");
  CHECK(done.json()["pickup_proof"]["collected_by"] == "Sam (neighbour)");
  CHECK(done.json()["pickup_proof"]["signed"] == true);
  // A lost code: the manager checks the customer's ID instead (even when locked).
  auto by_id = m.post("/api/v1/orders/FO-PL/collect",
                      {{"id_type", "driving_licence"}, {"id_last_digits", "X42"}});
  REQUIRE_MESSAGE(by_id.status == 200, by_id.body);
  CHECK(by_id.json()["pickup_proof"]["method"] == "id_check");
  CHECK(by_id.json()["pickup_proof"]["id_last_digits"] == "X42");
  CHECK(by_id.json()["pickup_proof"]["signed"] == false);

  // The cloud gets the proof with the collection: the signature as it was drawn.
  const auto proofs = s.on_loop([&] {
    std::vector<json> out;
    for (const auto& e : s.store->outbox().since(0, 200))
      if (e.type == "order.collected") out.push_back(json::parse(e.payload)["proof"]);
    return out;
  });
  REQUIRE(proofs.size() == 2);
  CHECK(proofs[0]["signature_png_base64"] == png);
  CHECK(proofs[0]["collected_by"] == "Sam (neighbour)");
  CHECK(proofs[1]["id_type"] == "driving_licence");
  CHECK_FALSE(proofs[1].contains("signature_png_base64"));
}

TEST_CASE("pickups age on the shelf: ready_at, overdue flag and filter, notice, return to stock") {
  ApiServer s({"orders.accept_warn_minutes=7", "orders.ship_warn_minutes=90"});
  constexpr std::int64_t kDay = std::int64_t{24} * 3600 * 1000;
  s.add_order("FO-OLD", DeliveryMethod::pickup, {{"SKU-0003", 2}});
  s.add_order("FO-NEW", DeliveryMethod::pickup, {{"SKU-0004", 1}});
  s.add_order("FO-SHIP", DeliveryMethod::ship, {{"SKU-0005", 1}});
  ApiClient t(s.port, s.pair("associate", "Till 1"));
  ApiClient m(s.port, s.pair("manager"));
  // FO-OLD went on the shelf eight days ago (the command's clock is injected), FO-NEW now.
  std::int64_t old_ready = 0;
  for (const char* id : {"FO-OLD", "FO-NEW"})
    s.on_loop([&] {
      auto& o = s.store->orders();
      const bool old = std::string(id) == "FO-OLD";
      const auto c = ctx(agent::now_ms() - (old ? 8 * kDay : 0));
      if (old) old_ready = c.now_ms;
      REQUIRE(o.accept(id, ctx(agent::now_ms())));
      REQUIRE(o.start_picking(id, c));
      const auto order = *o.find(id);
      for (const auto& l : order.lines) REQUIRE(o.pick_item(id, l.sku, l.quantity, c));
      REQUIRE(o.complete_picking(id, c));
      REQUIRE(o.ready_for_pickup(id, "P-02", c));
      return 0;
    });

  // The SLA thresholds and the pickup's limit reach the terminals with the reference.
  const auto reference = t.get("/api/v1/reference").json();
  CHECK(reference["sla"]["accept_warn_ms"] == 7 * 60 * 1000);
  CHECK(reference["sla"]["ship_warn_ms"] == 90 * 60 * 1000);
  CHECK(reference["pickup_return_after_days"] == 7);

  auto has = [](const json& actions, const char* a) {
    return std::find(actions.begin(), actions.end(), a) != actions.end();
  };
  auto old = t.get("/api/v1/orders/FO-OLD").json();
  CHECK(old["ready_at"] == old_ready);
  CHECK(old["uncollected_overdue"] == true);
  CHECK(old["pickup_notices"] == 0);
  CHECK(has(old["allowed_actions"], "return_uncollected"));
  CHECK(has(old["allowed_actions"], "send_pickup_notice"));
  auto fresh = t.get("/api/v1/orders/FO-NEW").json();
  CHECK(fresh["uncollected_overdue"] == false);
  CHECK_FALSE(has(fresh["allowed_actions"], "return_uncollected"));
  CHECK(t.get("/api/v1/orders/FO-SHIP").json()["ready_at"] == 0);

  // The queue's rows carry the same, and ?overdue=true lists only the overdue ones.
  auto queue = t.get("/api/v1/orders?method=pickup").json();
  REQUIRE(queue["orders"].size() == 2);
  for (const auto& row : queue["orders"]) {
    CAPTURE(row.dump());
    CHECK(row["uncollected_overdue"] == (row["id"] == "FO-OLD"));
    CHECK(row["ready_at"].get<std::int64_t>() > 0);
  }
  auto overdue = t.get("/api/v1/orders?overdue=true").json();
  REQUIRE(overdue["orders"].size() == 1);
  CHECK(overdue["orders"][0]["id"] == "FO-OLD");
  CHECK(t.get("/api/v1/orders?overdue=true&state=picked").json()["orders"].empty());
  CHECK(t.get("/api/v1/orders?overdue=false").json()["orders"].size() == 3);
  CHECK(t.get("/api/v1/orders?overdue=yes").error_code() == "invalid_query");

  // The notice sent again, by an associate: counted and audited with who asked.
  auto notice = t.post("/api/v1/orders/FO-NEW/pickup-notice", nullptr);
  REQUIRE_MESSAGE(notice.status == 200, notice.body);
  CHECK(notice.json()["pickup_notices"] == 1);
  CHECK(t.post("/api/v1/orders/FO-NEW/pickup-notice", json::object()).json()["pickup_notices"] ==
        2);
  const auto notices = s.on_loop([&] {
    std::vector<json> out;
    for (const auto& e : s.store->outbox().since(0, 500))
      if (e.type == "order.pickup_notice_requested") out.push_back(json::parse(e.payload));
    return out;
  });
  REQUIRE(notices.size() == 2);
  CHECK(notices[1]["notices"] == 2);
  CHECK(notices[1]["actor"].get<std::string>().rfind("terminal:", 0) == 0);
  const auto audit = m.get("/api/v1/audit").json();
  CHECK(audit.dump().find("pickup-notice") != std::string::npos);

  // Refused, changing nothing: a notice for an order not on the shelf, a return by an
  // associate, a return before the order is overdue, a body with fields.
  const auto before = s.fingerprint_without_audit();
  auto early = t.post("/api/v1/orders/FO-SHIP/pickup-notice", nullptr);
  CHECK(early.status == 409);
  CHECK(early.error_code() == "illegal_transition");
  CHECK(early.json()["error"]["message"].get<std::string>().find(
            "cannot have its pickup notice sent again") != std::string::npos);
  CHECK(t.post("/api/v1/orders/FO-OLD/return-uncollected", nullptr).status == 403);
  auto not_yet = m.post("/api/v1/orders/FO-NEW/return-uncollected", nullptr);
  CHECK(not_yet.status == 409);
  CHECK(not_yet.json()["error"]["message"].get<std::string>().find("only after 7 days") !=
        std::string::npos);
  CHECK(t.post("/api/v1/orders/FO-NEW/pickup-notice", {{"channel", "sms"}}).status == 400);
  CHECK(s.fingerprint_without_audit() == before);

  // A manager returns the overdue order to stock: cancelled, reservations released.
  const auto reserved = [&] {
    return s.on_loop([&] { return s.store->inventory().level("SKU-0003")->reserved; });
  };
  CHECK(reserved() == 2);
  auto returned = m.post("/api/v1/orders/FO-OLD/return-uncollected", nullptr);
  REQUIRE_MESSAGE(returned.status == 200, returned.body);
  CHECK(returned.json()["state"] == "cancelled");
  CHECK(returned.json()["reject_reason"] == "not_collected");
  CHECK(returned.json()["uncollected_overdue"] == false);
  CHECK(reserved() == 0);
  CHECK(t.get("/api/v1/orders?overdue=true").json()["orders"].empty());
}

TEST_CASE("pick lists over HTTP: a wave into totes, refusals by code, a shortage, the print") {
  TempDir labels;
  const json printers = json::array({{{"id", "desk1-zebra"},
                                      {"kind", "file"},
                                      {"language", "zpl"},
                                      {"directory", labels.path()}}});
  const json stations =
      json::array({{{"id", "desk-1"}, {"documents", {{"pick_list", "desk1-zebra"}}}}});
  ApiServer s({"printers=" + printers.dump(), "stations=" + stations.dump()});
  s.add_order("FO-W1", DeliveryMethod::ship, {{"SKU-0001", 1}, {"SKU-0002", 1}});
  s.add_order("FO-W2", DeliveryMethod::ship, {{"SKU-0001", 1}});
  s.add_order("FO-W3", DeliveryMethod::pickup, {{"SKU-0003", 2}});
  s.add_order("FO-R", DeliveryMethod::ship, {{"SKU-0004", 1}});
  ApiClient anna(s.port, s.pair("associate", "Anna's tablet", "desk-1"));
  ApiClient ben(s.port, s.pair("associate", "Ben's phone"));
  for (const char* id : {"FO-W1", "FO-W2", "FO-W3"})
    REQUIRE(anna.post(std::string("/api/v1/orders/") + id + "/accept", nullptr).status == 200);

  // Refused, changing nothing: neither or both, a routed order, a bad rule.
  const auto before = s.fingerprint_without_audit();
  CHECK(anna.post("/api/v1/pick-lists", json::object()).error_code() == "missing_field");
  CHECK(anna.post("/api/v1/pick-lists", {{"orders", {"FO-W1"}}, {"rule", json::object()}})
            .error_code() == "missing_field");
  auto routed = anna.post("/api/v1/pick-lists", {{"orders", {"FO-W1", "FO-R"}}});
  CHECK(routed.status == 409);
  CHECK(routed.json()["error"]["message"].get<std::string>().find(
            "routed, waiting to be accepted") != std::string::npos);
  CHECK(anna.post("/api/v1/pick-lists", {{"rule", {{"method", "drone"}}}}).error_code() ==
        "invalid_field");
  CHECK(anna.post("/api/v1/pick-lists", {{"rule", {{"max_orders", 21}}}}).error_code() ==
        "invalid_field");
  CHECK(anna.post("/api/v1/pick-lists", {{"orders", {1, 2}}}).error_code() == "invalid_field");
  CHECK(s.fingerprint_without_audit() == before);

  // The rule takes the ship orders; the list prints at Anna's desk.
  auto made = anna.post("/api/v1/pick-lists", {{"rule", {{"method", "ship"}}}});
  REQUIRE_MESSAGE(made.status == 201, made.body);
  const auto list = made.json();
  CHECK(list["id"] == "PL-1");
  REQUIRE(list["orders"].size() == 2);
  CHECK(list["orders"][0]["tote"] == 1);
  CHECK(list["open_units"] == 3);
  REQUIRE(made.json()["printing"]["jobs"].size() == 1);
  const std::string job = made.json()["printing"]["jobs"][0]["id"];
  REQUIRE(wait_for_job(anna, job, "printed")["state"] == "printed");
  std::string zpl;
  for (const auto& f : std::filesystem::directory_iterator(labels.path()))
    if (f.path().filename().string().starts_with(job)) zpl = read_all(f.path().string());
  CHECK(zpl.find("PL-1") != std::string::npos);
  CHECK(zpl.find("Tote 2") != std::string::npos);
  CHECK(anna.get("/api/v1/orders/FO-W2").json()["pick_list"] ==
        json({{"id", "PL-1"}, {"tote", 2}}));
  CHECK(anna.get("/api/v1/pick-lists").json()["pick_lists"].size() == 1);
  auto found = anna.get("/api/v1/lookup?code=PL-1");
  CHECK(found.json()["kind"] == "pick_list");
  CHECK(anna.get("/api/v1/lookup?code=PL-9").status == 404);

  // Scans into totes; wrong items, over-scans and another terminal refused by code.
  const auto scan = [&](ApiClient& who, const std::string& sku) {
    return who.post("/api/v1/pick-lists/PL-1/scan", {{"barcode", barcode_of(s, sku)}});
  };
  auto first = scan(anna, "SKU-0001");
  REQUIRE_MESSAGE(first.status == 200, first.body);
  CHECK(first.json()["tote"] == 1);
  CHECK(first.json()["order_ref"] == "REF-FO-W1");
  CHECK(scan(anna, "SKU-0003").error_code() == "wrong_item");
  CHECK(scan(ben, "SKU-0001").error_code() == "claimed");
  CHECK(anna.post("/api/v1/pick-lists/PL-1/scan", {{"barcode", "0000000000000"}}).error_code() ==
        "unknown_barcode");
  auto second = scan(anna, "SKU-0001");
  REQUIRE(second.status == 200);
  CHECK(second.json()["tote"] == 2);
  CHECK(second.json()["order_picked"] == true);
  CHECK(scan(anna, "SKU-0001").error_code() == "over_scan");
  // The last unit is not on the shelf: tote 1 goes short and on to picked; the list closes.
  CHECK(anna.post("/api/v1/pick-lists/PL-1/short-pick",
                  {{"sku", "SKU-0002"}, {"quantity", 2}, {"reason", "not_found"}})
            .status == 422);
  auto shorted = anna.post("/api/v1/pick-lists/PL-1/short-pick",
                           {{"sku", "SKU-0002"}, {"quantity", 1}, {"reason", "not_found"}});
  REQUIRE_MESSAGE(shorted.status == 200, shorted.body);
  CHECK(shorted.json()["shorts"][0]["tote"] == 1);
  CHECK(shorted.json()["shorts"][0]["state"] == "picked");
  CHECK(shorted.json()["pick_list"]["state"] == "closed");
  CHECK(anna.get("/api/v1/orders/FO-W1").json()["pick_list"].is_null());
  CHECK(scan(anna, "SKU-0001").status == 409);
  CHECK(anna.post("/api/v1/pick-lists/PL-1/close", nullptr).status == 409);
  CHECK(anna.get("/api/v1/pick-lists/PL-7").status == 404);
  CHECK(anna.get("/api/v1/pick-lists/nonsense").status == 404);

  // A list closed early leaves its order being picked, still Anna's.
  auto pickup = anna.post("/api/v1/pick-lists", {{"orders", {"FO-W3"}}});
  REQUIRE(pickup.status == 201);
  auto closed = anna.post("/api/v1/pick-lists/PL-2/close", nullptr);
  REQUIRE(closed.status == 200);
  CHECK(closed.json()["state"] == "closed");
  auto order = anna.get("/api/v1/orders/FO-W3").json();
  CHECK(order["state"] == "picking");
  CHECK(order["claim"]["mine"] == true);
}

// The bytes a file printer wrote for a job.
std::string job_bytes(const TempDir& dir, const std::string& job) {
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    if (f.path().filename().string().starts_with(job)) return read_all(f.path().string());
  return {};
}

TEST_CASE("a desk's action sheet prints through the queue; refusals queue nothing; GET renders") {
  TempDir labels;
  const json printers = json::array(
      {{{"id", "desk1-zebra"}, {"kind", "file"}, {"language", "zpl"}, {"directory", labels.path()}},
       {{"id", "office-laser"},
        {"kind", "file"},
        {"language", "pdf"},
        {"directory", labels.path()}}});
  const json stations = json::array(
      {{{"id", "desk-1"},
        {"documents", {{"shipping_label", "desk1-zebra"}, {"pick_list", "office-laser"}}}},
       {{"id", "desk-2"}, {"documents", {{"shipping_label", "desk1-zebra"}}}}});
  const json boxes = json::array({"S", "XL", "^XA~JA"});
  ApiServer s({"printers=" + printers.dump(), "stations=" + stations.dump(),
               "orders.box_types=" + boxes.dump()});
  s.add_order("FO-A", DeliveryMethod::ship, {{"SKU-0007", 1}});
  ApiClient t(s.port, s.pair("associate", "Desk 1", "desk-1"));
  ApiClient roaming(s.port, s.pair("associate", "Tablet"));
  ApiClient m(s.port, s.pair("manager"));

  // The terminal's own station, at its pick-list printer: one A4 page, no order.
  auto printed = t.post("/api/v1/action-sheet/print", json::object());
  REQUIRE_MESSAGE(printed.status == 202, printed.body);
  const auto job = printed.json()["jobs"][0];
  CHECK(job["kind"] == "action_sheet");
  CHECK(job["order_id"].is_null());
  CHECK(job["station"] == "desk-1");
  CHECK(job["printer"] == "office-laser");
  CHECK(job["format"] == "pdf");
  REQUIRE(wait_for_job(t, job["id"], "printed")["state"] == "printed");
  const std::string pdf = job_bytes(labels, job["id"]);
  CHECK(pdf.starts_with("%PDF"));
  if (const auto text = pdf_text(labels, "sheet", pdf)) {
    for (const char* shown :
         {"Action barcodes", "Station desk-1", "COMPLETE PICKING", "*ACT-ACCEPT", "*ACT-START",
          "*ACT-COMPLETE", "*ACT-PACK", "*ACT-PRINT", "*ACT-QUEUE", "*ACT-BOX-XL", "BOX: ^XA~JA"})
      CHECK_MESSAGE(text->find(shown) != std::string::npos, shown);
  }
  // On a label printer: ZPL labels whose barcodes hold the codes; the hostile box type is
  // field data, never a command.
  auto zpl_job = t.post("/api/v1/action-sheet/print", {{"printer", "desk1-zebra"}});
  REQUIRE_MESSAGE(zpl_job.status == 202, zpl_job.body);
  const std::string zpl_id = zpl_job.json()["jobs"][0]["id"];
  REQUIRE(wait_for_job(t, zpl_id, "printed")["state"] == "printed");
  const std::string zpl = job_bytes(labels, zpl_id);
  CHECK(zpl.starts_with("^XA"));
  for (const char* code : {"*ACT-ACCEPT", "*ACT-START", "*ACT-COMPLETE", "*ACT-PACK", "*ACT-PRINT",
                           "*ACT-QUEUE", "*ACT-BOX-S", "*ACT-BOX-XL"})
    CHECK_MESSAGE(zpl.find(std::string("^FH_^FD") + code + "^FS") != std::string::npos, code);
  CHECK(zpl.find("^FD*ACT-BOX-_5EXA_7EJA^FS") != std::string::npos);
  CHECK(zpl.find("~JA") == std::string::npos);
  // Another desk's sheet (a manager), at its only printer; listed in the queue.
  auto other = m.post("/api/v1/action-sheet/print", {{"station", "desk-2"}});
  REQUIRE_MESSAGE(other.status == 202, other.body);
  CHECK(other.json()["jobs"][0]["printer"] == "desk1-zebra");
  CHECK(other.json()["jobs"][0]["station"] == "desk-2");
  REQUIRE(wait_for_job(m, other.json()["jobs"][0]["id"], "printed")["state"] == "printed");

  // Refusals say why and queue nothing.
  const auto before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/action-sheet/print", {{"station", "desk-2"}}).error_code() == "forbidden");
  const auto nowhere = roaming.post("/api/v1/action-sheet/print", json::object());
  CHECK(nowhere.error_code() == "invalid_argument");
  CHECK(nowhere.body.find("name a printer") != std::string::npos);
  CHECK(m.post("/api/v1/action-sheet/print", {{"station", "desk 1;"}}).error_code() ==
        "invalid_station");
  CHECK(m.post("/api/v1/action-sheet/print", {{"station", "desk-9"}}).error_code() ==
        "invalid_argument");  // no printer there
  CHECK(t.post("/api/v1/action-sheet/print", {{"printer", "nope"}}).status == 404);
  CHECK(t.post("/api/v1/action-sheet/print", {{"copies", 2}}).status / 100 == 4);
  const auto as_order = t.post("/api/v1/orders/FO-A/print", {{"kind", "action_sheet"}});
  CHECK(as_order.error_code() == "invalid_argument");
  CHECK(as_order.body.find("/api/v1/action-sheet/print") != std::string::npos);
  CHECK(t.get("/api/v1/orders/FO-A/documents/action_sheet?format=zpl").status == 422);
  CHECK(s.fingerprint_without_audit() == before);

  // For inspection, in either format.
  auto viewed = t.get("/api/v1/action-sheet?format=zpl");
  REQUIRE(viewed.status == 200);
  CHECK(viewed.body.find("^FDStation desk-1^FS") != std::string::npos);
  CHECK(viewed.body.find("^FD*ACT-PACK^FS") != std::string::npos);
  CHECK(t.get("/api/v1/action-sheet").body.starts_with("%PDF"));
  CHECK(t.get("/api/v1/action-sheet?format=html").status == 422);
  CHECK(t.get("/api/v1/action-sheet?station=desk-2").status == 403);
}

TEST_CASE("a box type a Code 128 cannot carry refuses the action sheet, naming it") {
  TempDir labels;
  const json printers = json::array({{{"id", "office-laser"},
                                      {"kind", "file"},
                                      {"language", "pdf"},
                                      {"directory", labels.path()}}});
  const json stations =
      json::array({{{"id", "desk-1"}, {"documents", {{"pick_list", "office-laser"}}}}});
  ApiServer s({"printers=" + printers.dump(), "stations=" + stations.dump(),
               "orders.box_types=" + json::array({"M", "Größe L"}).dump()});
  ApiClient t(s.port, s.pair("associate", "Desk 1", "desk-1"));
  const auto before = s.fingerprint_without_audit();
  const auto refused = t.post("/api/v1/action-sheet/print", json::object());
  CHECK(refused.error_code() == "invalid_argument");
  const std::string message = refused.json()["error"]["message"];
  CHECK(message.find("box type \"Größe L\" cannot be an action barcode") != std::string::npos);
  CHECK(message.find("orders.box_types") != std::string::npos);
  CHECK(s.fingerprint_without_audit() == before);
  CHECK(t.get("/api/v1/action-sheet?format=zpl").error_code() == "invalid_argument");
}

TEST_CASE("capacity over HTTP: a manager pauses and resumes; orders routed meanwhile are flagged") {
  ApiServer s;
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  auto now = t.get("/api/v1/capacity");
  REQUIRE(now.status == 200);
  CHECK(now.json()["taking_orders"] == true);
  CHECK(now.json()["orders_per_day"].is_null());
  const auto reference = t.get("/api/v1/reference").json();
  CHECK(reference["pause_reasons"][0] == "closing_early");
  CHECK(reference["reason_effects"]["out_of_stock"]["stock"] == "count_zero");
  CHECK(reference["reason_effects"]["out_of_stock"]["avoid_store_hours"] == 24);

  const std::string before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/capacity/pause", {{"reason", "short_staffed"}}).status == 403);
  auto bad = m.post("/api/v1/capacity/pause", {{"reason", "lunch"}});
  CHECK(bad.status == 422);
  CHECK(bad.json()["error"]["message"].get<std::string>().find("not one of") != std::string::npos);
  CHECK(m.post("/api/v1/capacity/pause", {{"reason", "other"}, {"colour", 1}}).status == 400);
  CHECK(m.post("/api/v1/capacity/resume", nullptr).status == 409);
  CHECK(s.fingerprint_without_audit() == before);

  auto paused = m.post("/api/v1/capacity/pause", {{"reason", "short_staffed"}, {"note", "2 off"}});
  REQUIRE(paused.status == 200);
  CHECK(paused.json()["flag_now"] == "paused");
  CHECK(paused.json()["pause"]["paused_by"].get<std::string>().starts_with("terminal:"));
  s.add_order("FO-P", DeliveryMethod::ship, {{"SKU-0001", 1}});
  CHECK(t.get("/api/v1/orders/FO-P").json()["capacity_flag"] == "paused");
  CHECK(t.get("/api/v1/orders").json()["orders"][0]["capacity_flag"] == "paused");
  REQUIRE(m.post("/api/v1/capacity/resume", nullptr).status == 200);
  CHECK(t.get("/api/v1/capacity").json()["taking_orders"] == true);
  s.add_order("FO-Q", DeliveryMethod::ship, {{"SKU-0001", 1}});
  CHECK(t.get("/api/v1/orders/FO-Q").json()["capacity_flag"] == "");
}

// An inbound shipment, as the cloud's feed announces it.
void announce_shipment(ApiServer& s, const json& payload) {
  s.on_loop([&] {
    const std::string id = "cmd-" + payload["shipment_id"].get<std::string>();
    auto r = agent::CloudCommands(*s.store).apply({id, "shipment.inbound", id, 0, payload},
                                                  agent::now_ms());
    REQUIRE(r);
    REQUIRE_MESSAGE(r->outcome == agent::CommandOutcome::applied, r->detail);
    return 0;
  });
}

TEST_CASE("receiving a shipment: found by its label, scanned in, closed; refusals change nothing") {
  ApiServer s;
  announce_shipment(
      s, {{"shipment_id", "ASN-7"},
          {"kind", "purchase_order"},
          {"source", "Acme Textiles"},
          {"barcodes", {"PO-77"}},
          {"lines",
           {{{"sku", "SKU-0001"}, {"quantity", 3}}, {{"sku", "SKU-0002"}, {"quantity", 2}}}}});
  ApiClient t(s.port, s.pair("associate"));
  auto found = t.get("/api/v1/lookup?code=PO-77%0D");
  REQUIRE(found.status == 200);
  CHECK(found.json() == json{{"kind", "shipment"},
                             {"matched", "shipment_label"},
                             {"shipment_id", "ASN-7"},
                             {"state", "expected"}});
  CHECK(t.get("/api/v1/lookup?code=ASN-7").json()["matched"] == "shipment_id");
  auto open = t.get("/api/v1/shipments").json()["shipments"];
  REQUIRE(open.size() == 1);
  CHECK(open[0]["totals"] == json{{"expected", 5}, {"received", 0}, {"damaged", 0}, {"open", 5}});
  CHECK(t.get("/api/v1/shipments/PO-77").json()["id"] == "ASN-7");

  const auto one =
      t.post("/api/v1/shipments/ASN-7/receive", {{"barcode", barcode_of(s, "SKU-0001")}});
  REQUIRE(one.status == 200);
  CHECK(one.json()["sku"] == "SKU-0001");
  CHECK(one.json()["discrepancy"] == "short");
  CHECK(one.json()["shipment"]["state"] == "receiving");
  CHECK(one.json()["shipment"]["lines"][0]["received"] == 1);
  CHECK(t.post("/api/v1/shipments/ASN-7/receive", {{"sku", "SKU-0001"}, {"quantity", 3}})
            .json()["discrepancy"] == "over");
  const auto damaged = t.post("/api/v1/shipments/ASN-7/receive",
                              {{"barcode", barcode_of(s, "SKU-0002")}, {"damaged", true}});
  CHECK(damaged.json()["damaged"] == true);
  CHECK(damaged.json()["shipment"]["totals"]["damaged"] == 1);
  CHECK(t.post("/api/v1/shipments/ASN-7/receive", {{"sku", "SKU-0005"}}).json()["discrepancy"] ==
        "unexpected");
  CHECK(s.on_loop([&] { return s.store->inventory().level("SKU-0002")->unsellable; }) == 1);

  const auto before = s.fingerprint_without_audit();
  auto refused = [&](const json& body, const std::string& code,
                     const std::string& target = "/api/v1/shipments/ASN-7/receive") {
    CAPTURE(body.dump());
    auto r = t.post(target, body);
    CHECK(r.error_code() == code);
    return r;
  };
  CHECK(refused({{"barcode", "4006381333931"}}, "unknown_barcode").status == 422);
  refused({{"sku", "SKU-9999"}}, "unknown_sku");
  refused({{"sku", "SKU-0001"}, {"barcode", "x"}}, "missing_field");
  refused(json::object(), "missing_field");
  refused({{"sku", "SKU-0001"}, {"quantity", 0}}, "invalid_field");
  refused({{"sku", "SKU-0001"}, {"quantity", 10001}}, "invalid_field");
  refused({{"sku", "SKU-0001"}, {"damaged", "yes"}}, "invalid_field");
  refused({{"sku", "SKU-0001"}, {"bin", "A1"}}, "unknown_field");
  refused({{"barcode", "SKU-\x1b[2J"}}, "unknown_barcode");
  refused({{"sku", "SKU-0001"}}, "not_found", "/api/v1/shipments/ASN-404/receive");
  CHECK(t.get("/api/v1/shipments/ASN-404").status == 404);
  CHECK(s.fingerprint_without_audit() == before);

  const auto closed = t.post("/api/v1/shipments/ASN-7/close", json::object());
  REQUIRE(closed.status == 200);
  CHECK(closed.json()["state"] == "closed");
  CHECK(closed.json()["discrepancies"] ==
        json::array({{{"sku", "SKU-0001"}, {"kind", "over"}, {"quantity", 1}},
                     {{"sku", "SKU-0002"}, {"kind", "short"}, {"quantity", 1}},
                     {{"sku", "SKU-0002"}, {"kind", "damaged"}, {"quantity", 1}},
                     {{"sku", "SKU-0005"}, {"kind", "unexpected"}, {"quantity", 1}}}));
  const auto after_close = s.fingerprint_without_audit();
  CHECK(refused({{"sku", "SKU-0001"}}, "illegal_transition").status == 409);
  CHECK(t.post("/api/v1/shipments/ASN-7/close", json::object()).status == 409);
  CHECK(s.fingerprint_without_audit() == after_close);
  CHECK(t.get("/api/v1/shipments").json()["shipments"].empty());
  const std::string closed_by = t.get("/api/v1/shipments/ASN-7").json()["closed_by"];
  CHECK(closed_by.rfind("terminal:T-", 0) == 0);
  CHECK(s.on_loop([&] { return invariant_violations(s.store->db()); }).empty());
}

TEST_CASE("count sessions over HTTP: planned by bin, counted blind by two, reviewed, approved") {
  ApiServer s;  // SKU-0001, -0005, -0009, -0013, -0017 in bin A01-2, 50 each
  ApiClient m(s.port, s.pair("manager", "Office"));
  ApiClient anna(s.port, s.pair("associate", "Anna's tablet"));
  ApiClient ben(s.port, s.pair("associate", "Ben's phone"));
  const auto path = [](const std::string& tail) { return "/api/v1/count-sessions/CS-1" + tail; };
  const auto scan = [&](ApiClient& who, const std::string& sku, int quantity) {
    return who.post(path("/scan"), {{"barcode", barcode_of(s, sku)}, {"quantity", quantity}});
  };

  // Refused, changing nothing.
  const auto before = s.fingerprint_without_audit();
  CHECK(anna.post("/api/v1/count-sessions", {{"bins", {"A01-2"}}}).error_code() == "forbidden");
  CHECK(m.post("/api/v1/count-sessions", json::object()).error_code() == "missing_field");
  CHECK(m.post("/api/v1/count-sessions", {{"bins", {1}}}).error_code() == "invalid_field");
  CHECK(m.post("/api/v1/count-sessions", {{"bins", {"Z9"}}}).error_code() == "invalid_argument");
  CHECK(m.post("/api/v1/count-sessions", {{"skus", {"NOPE"}}}).error_code() == "unknown_sku");
  CHECK(m.post("/api/v1/count-sessions", {{"bins", {"A01"}}, {"shelf", 1}}).error_code() ==
        "unknown_field");
  CHECK(s.fingerprint_without_audit() == before);

  auto planned = m.post("/api/v1/count-sessions", {{"bins", {"A01-2"}}, {"note", "aisle A"}});
  REQUIRE_MESSAGE(planned.status == 201, planned.body);
  CHECK(planned.json()["id"] == "CS-1");
  CHECK(planned.json()["state"] == "counting");
  CHECK(planned.json()["line_count"] == 5);
  CHECK(planned.json()["figures"] == false);
  CHECK(m.get("/api/v1/lookup?code=CS-1").json()["count_session_id"] == "CS-1");
  CHECK(anna.get("/api/v1/count-sessions").json()["count_sessions"].size() == 1);

  // Two associates count; a unit sold from SKU-0001's shelf after it was counted, one
  // from SKU-0005's before it was.
  REQUIRE(scan(anna, "SKU-0001", 1).status == 200);
  auto more = scan(ben, "SKU-0001", 49);
  REQUIRE_MESSAGE(more.status == 200, more.body);
  CHECK(more.json()["counted"] == 50);
  const auto correction = [&](const std::string& sku) {
    return m.post("/api/v1/inventory/adjustments",
                  {{"sku", sku}, {"kind", "correction"}, {"quantity", -1}, {"reason", "sold"}});
  };
  REQUIRE(correction("SKU-0001").status == 200);
  REQUIRE(correction("SKU-0005").status == 200);
  REQUIRE(scan(anna, "SKU-0005", 49).status == 200);
  REQUIRE(scan(ben, "SKU-0009", 48).status == 200);
  REQUIRE(scan(ben, "SKU-0017", 50).status == 200);

  // Refusals by code, changing nothing but the audit trail.
  const auto counting = s.fingerprint_without_audit();
  CHECK(scan(anna, "SKU-0002", 1).error_code() == "wrong_item");
  CHECK(anna.post(path("/scan"), {{"barcode", "0000000000000"}}).error_code() == "unknown_barcode");
  CHECK(scan(anna, "SKU-0001", 0).error_code() == "invalid_field");
  CHECK(anna.post(path("/none-found"), {{"sku", "SKU-0001"}}).error_code() == "invalid_argument");
  CHECK(anna.post(path("/submit"), nullptr).error_code() == "invalid_argument");
  CHECK(m.post(path("/approve"), nullptr).error_code() == "illegal_transition");
  CHECK(anna.post("/api/v1/count-sessions/CS-9/scan", {{"barcode", "SKU-0001"}}).status == 404);
  CHECK(s.fingerprint_without_audit() == counting);

  // Blind: nobody sees the books' figures while counting, not even a manager.
  for (auto* who : {&anna, &m}) {
    const auto blind = who->get(path("")).json();
    CHECK(blind["figures"] == false);
    CHECK(blind.dump().find("expected") == std::string::npos);
    CHECK(blind.dump().find("on_hand") == std::string::npos);
  }
  REQUIRE(anna.post(path("/none-found"), {{"sku", "SKU-0013"}}).status == 200);
  auto submitted = anna.post(path("/submit"), nullptr);
  REQUIRE_MESSAGE(submitted.status == 200, submitted.body);
  CHECK(submitted.json()["state"] == "review");
  CHECK(submitted.json()["figures"] == false);  // an associate's view stays blind
  CHECK(scan(anna, "SKU-0001", 1).error_code() == "illegal_transition");
  CHECK(anna.post(path("/approve"), nullptr).error_code() == "forbidden");

  // The manager's review: variances against the books at each count.
  const auto review = m.get(path("")).json();
  CHECK(review["figures"] == true);
  std::map<std::string, json> lines;
  for (const auto& l : review["lines"]) lines[l["sku"]] = l;
  CHECK(lines["SKU-0001"]["variance"] == 0);
  CHECK(lines["SKU-0001"]["moved_after_count"] == -1);
  CHECK(lines["SKU-0001"]["movements"][0]["after_count"] == true);
  CHECK(lines["SKU-0005"]["variance"] == 0);
  CHECK(lines["SKU-0005"]["moved_before_count"] == -1);
  CHECK(lines["SKU-0009"]["variance"] == -2);
  CHECK(lines["SKU-0013"]["variance"] == -50);
  CHECK(anna.get(path("")).json().dump().find("variance") == std::string::npos);

  // SKU-0013 was on another shelf: counted again, then approved.
  CHECK(m.post(path("/recount"), {{"skus", {"SKU-0002"}}}).error_code() == "invalid_argument");
  auto recount = m.post(path("/recount"), {{"skus", {"SKU-0013"}}});
  REQUIRE_MESSAGE(recount.status == 200, recount.body);
  CHECK(recount.json()["state"] == "counting");
  CHECK(scan(anna, "SKU-0009", 1).error_code() == "illegal_transition");
  REQUIRE(scan(anna, "SKU-0013", 50).status == 200);
  REQUIRE(anna.post(path("/submit"), nullptr).status == 200);
  auto approved = m.post(path("/approve"), nullptr);
  REQUIRE_MESSAGE(approved.status == 200, approved.body);
  CHECK(approved.json()["state"] == "approved");
  const auto level = [&](const std::string& sku) {
    return m.get("/api/v1/inventory/" + sku).json()["on_hand"];
  };
  CHECK(level("SKU-0001") == 49);
  CHECK(level("SKU-0005") == 49);
  CHECK(level("SKU-0009") == 48);
  CHECK(level("SKU-0013") == 50);
  CHECK(m.post(path("/approve"), nullptr).error_code() == "illegal_transition");
  CHECK(m.post(path("/cancel"), nullptr).error_code() == "illegal_transition");
  s.on_loop([&] {
    CHECK(invariant_violations(s.store->db()).empty());
    return 0;
  });

  // A session survives a restart; a manager can cancel it, posting nothing.
  REQUIRE(m.post("/api/v1/count-sessions", {{"skus", {"SKU-0002"}}}).status == 201);
  REQUIRE(anna.post("/api/v1/count-sessions/CS-2/scan", {{"barcode", "SKU-0002"}}).status == 200);
  s.restart();
  ApiClient m2(s.port, s.pair("manager", "Office 2"));
  CHECK(m2.get("/api/v1/count-sessions/CS-2").json()["lines"][0]["counted"] == 1);
  CHECK(m2.get("/api/v1/count-sessions?state=all").json()["count_sessions"].size() == 2);
  CHECK(m2.get("/api/v1/count-sessions?state=closed").error_code() == "invalid_query");
  auto cancelled = m2.post("/api/v1/count-sessions/CS-2/cancel", {{"reason", "wrong aisle"}});
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.json()["cancel_reason"] == "wrong aisle");
  CHECK(m2.get("/api/v1/inventory/SKU-0002").json()["on_hand"] == 50);
}

}  // namespace
}  // namespace fulfil::test

namespace fulfil::test {
namespace {

json till_sale(const std::string& id, std::int64_t qty, const std::string& till = "till-1") {
  return {{"till_id", till},
          {"transaction_id", id},
          {"kind", "sale"},
          {"lines", json::array({{{"sku", "SKU-0001"}, {"quantity", qty}}})}};
}

TEST_CASE("a till (role pos) posts its sales once; it may call nothing else, nor associates it") {
  ApiServer s;
  const std::string till_token = s.pair("pos", "Till 1", "till-1");
  ApiClient till(s.port, till_token);
  CHECK(till.get("/api/v1/session").status == 403);  // nothing but the POS routes
  CHECK(till.get("/api/v1/orders").status == 403);
  CHECK(till.get("/api/v1/inventory/SKU-0001").error_code() == "forbidden");
  CHECK(till.post("/api/v1/inventory/adjustments",
                  {{"sku", "SKU-0001"}, {"kind", "receipt"}, {"quantity", 5}})
            .status == 403);
  CHECK(till.post("/api/v1/pairing-codes", {{"role", "manager"}}).status == 403);
  CHECK(websocket_refusal(s.port, "/api/v1/events?token=" + till_token) == 403);

  auto first = till.post("/api/v1/pos/transactions", till_sale("R-1", 2));
  REQUIRE(first.status == 201);
  CHECK(first.json()["duplicate"] == false);
  CHECK(first.json()["lines"][0]["on_hand"] == 48);
  const auto after_first = s.fingerprint_without_audit();
  for (int retry = 0; retry < 3; ++retry) {
    auto again = till.post("/api/v1/pos/transactions", till_sale("R-1", 2));
    CHECK(again.status == 200);
    CHECK(again.json()["duplicate"] == true);
    CHECK(again.json()["event_seq"] == first.json()["event_seq"]);
  }
  CHECK(s.fingerprint_without_audit() == after_first);
  auto conflict = till.post("/api/v1/pos/transactions", till_sale("R-1", 3));
  CHECK(conflict.status == 409);
  CHECK(conflict.error_code() == "duplicate");
  CHECK(conflict.json()["error"]["message"].get<std::string>().find("till-1/R-1") !=
        std::string::npos);
  auto read = till.get("/api/v1/pos/transactions/till-1/R-1");
  CHECK(read.status == 200);
  CHECK(read.json()["lines"][0]["quantity"] == 2);
  CHECK(till.get("/api/v1/pos/transactions/till-1/R-404").status == 404);
  // Bound to the till it was paired for: another till's transactions are neither posted
  // nor read; nothing changes.
  auto other = till.post("/api/v1/pos/transactions", till_sale("R-9", 1, "till-2"));
  CHECK(other.status == 403);
  CHECK(other.error_code() == "forbidden");
  CHECK(other.json()["error"]["message"] ==
        "this terminal is paired as till 'till-1': it may not act for till 'till-2'");
  CHECK(till.get("/api/v1/pos/transactions/till-2/R-1").status == 403);
  CHECK(s.fingerprint_without_audit() == after_first);
  // So a till's pairing code names its till id, a plain one.
  auto unbound =
      unix_request(s.socket, "POST", "/api/v1/pairing-codes", R"({"role":"pos","name":"Till 3"})");
  CHECK(unbound.status == 422);
  CHECK(unbound.json()["error"]["message"].get<std::string>().find("station is required") !=
        std::string::npos);
  CHECK(unix_request(s.socket, "POST", "/api/v1/pairing-codes",
                     R"({"role":"pos","station":"till 3"})")
            .status == 422);

  ApiClient associate(s.port, s.pair("associate"));
  auto refused = associate.post("/api/v1/pos/transactions", till_sale("R-2", 1));
  CHECK(refused.status == 403);
  CHECK(refused.error_code() == "forbidden");
  CHECK(associate.get("/api/v1/pos/transactions/till-1/R-1").status == 403);
  ApiClient manager(s.port, s.pair("manager"));
  CHECK(manager.post("/api/v1/pos/transactions", till_sale("R-3", 1, "back-office")).status == 201);
  CHECK(manager.get("/api/v1/inventory/SKU-0001").json()["on_hand"] == 47);
  CHECK(s.on_loop([&] { return invariant_violations(s.store->db()); }).empty());

  // A restart: the key is on disk, the till's retry is still a duplicate.
  s.restart();
  till = ApiClient(s.port, till_token);
  auto after_restart = till.post("/api/v1/pos/transactions", till_sale("R-1", 2));
  CHECK(after_restart.status == 200);
  CHECK(after_restart.json()["duplicate"] == true);
  CHECK(s.on_loop([&] { return count_rows(s.store->db(), "till_transaction"); }) == 2);
}

TEST_CASE("a till's bad request is refused, naming the field, and changes nothing") {
  ApiServer s;
  ApiClient till(s.port, s.pair("pos", "Till 1", "till-1"));
  const auto before = s.fingerprint_without_audit();
  auto malformed = till.send("POST", "/api/v1/pos/transactions", "{\"transaction_id\": ");
  CHECK(malformed.status == 400);
  CHECK(malformed.error_code() == "malformed_json");
  CHECK(till.send("POST", "/api/v1/pos/transactions", "[]").error_code() == "malformed_json");
  CHECK(till.send("POST", "/api/v1/pos/transactions", "").error_code() == "missing_field");
  auto no_lines = till.post("/api/v1/pos/transactions",
                            {{"till_id", "till-2"}, {"transaction_id", "R-1"}, {"kind", "sale"}});
  CHECK(no_lines.status == 422);
  CHECK(no_lines.error_code() == "missing_field");
  auto extra = till_sale("R-1", 1);
  extra["lines"][0]["price"] = 999;
  auto unknown_field = till.post("/api/v1/pos/transactions", extra);
  CHECK(unknown_field.status == 400);
  CHECK(unknown_field.error_code() == "unknown_field");
  CHECK(unknown_field.json()["error"]["message"].get<std::string>().find("lines[0].price") !=
        std::string::npos);
  auto gift = till_sale("R-1", 1);
  gift["kind"] = "gift";
  auto bad_kind = till.post("/api/v1/pos/transactions", gift);
  CHECK(bad_kind.status == 422);
  CHECK(bad_kind.error_code() == "invalid_field");
  CHECK(bad_kind.json()["error"]["message"] == "kind: must be sale or return, not 'gift'");
  auto unknown = till_sale("R-1", 1);
  unknown["lines"].push_back({{"barcode", "4006381333931"}, {"quantity", 1}});
  auto r = till.post("/api/v1/pos/transactions", unknown);
  CHECK(r.status == 422);
  CHECK(r.error_code() == "unknown_sku");
  CHECK(r.json()["error"]["message"].get<std::string>().find("lines[1].barcode") !=
        std::string::npos);
  auto zero = till.post("/api/v1/pos/transactions", till_sale("R-1", 0));
  CHECK(zero.status == 422);
  CHECK(zero.error_code() == "invalid_argument");
  auto hostile = till_sale("R-1", 1);
  hostile["lines"][0]["sku"] = "SKU-0001\x1b[2J";
  CHECK(till.post("/api/v1/pos/transactions", hostile).status == 422);
  CHECK(till.post("/api/v1/pos/transactions", till_sale("R-1", 1, "")).status == 422);
  CHECK(s.fingerprint_without_audit() == before);
}

TEST_CASE("a manager posts scanned stock adjustments as one batch; associates may not") {
  ApiServer s;
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager"));
  CHECK(t.get("/api/v1/reference").json()["adjustment_reasons"][0] == "damaged");
  const json batch = {{"reason", "damaged"},
                      {"note", "dropped pallet"},
                      {"lines", {{{"code", "SKU-0001"}}, {{"code", "SKU-0002"}, {"quantity", 2}}}}};
  const std::string before = s.fingerprint_without_audit();
  CHECK(t.post("/api/v1/inventory/adjustment-batches", batch).status == 403);
  CHECK(m.post("/api/v1/inventory/adjustment-batches", {{"reason", "damaged"}}).status == 422);
  auto unknown = m.post("/api/v1/inventory/adjustment-batches",
                        {{"reason", "damaged"}, {"lines", {{{"code", "NOPE"}}}}});
  CHECK(unknown.status == 422);
  CHECK(unknown.error_code() == "unknown_sku");
  CHECK(m.post("/api/v1/inventory/adjustment-batches",
               {{"reason", "damaged"}, {"lines", {{{"code", "SKU-0001"}, {"qty", 1}}}}})
            .status == 400);
  CHECK(s.fingerprint_without_audit() == before);
  auto posted = m.post("/api/v1/inventory/adjustment-batches", batch);
  REQUIRE(posted.status == 200);
  CHECK(posted.json()["lines"].size() == 2);
  CHECK(posted.json()["lines"][1]["sku"] == "SKU-0002");
  CHECK(posted.json()["lines"][1]["unsellable"] == 2);
}

TEST_CASE("a transfer over HTTP: listed apart with its destination, shipped like an order") {
  ApiServer s;
  s.on_loop([&] {
    const json payload = {{"transfer_id", "TRF-H"},
                          {"destination_store",
                           {{"id", "STORE-042"},
                            {"name", "Riverside"},
                            {"address",
                             {{"line1", "Uferstrasse 12"},
                              {"city", "Kassel"},
                              {"postcode", "34117"},
                              {"country", "DE"}}}}},
                          {"lines", {{{"sku", "SKU-0003"}, {"quantity", 2}}}},
                          {"notes", "before the weekend"}};
    auto r = agent::CloudCommands(*s.store).apply(
        {"cmd-trf", "transfer.requested", "cmd-trf", 0, payload}, agent::now_ms());
    REQUIRE(r);
    REQUIRE_MESSAGE(r->outcome == agent::CommandOutcome::applied, r->detail);
    return 0;
  });
  s.add_order("FO-C", DeliveryMethod::ship, {{"SKU-0001", 1}});
  ApiClient t(s.port, s.pair("associate"));

  auto transfers = t.get("/api/v1/orders?kind=transfer");
  REQUIRE(transfers.status == 200);
  auto listed = transfers.json();
  INFO(transfers.body);
  REQUIRE(listed["orders"].size() == 1);
  CHECK(listed["orders"][0]["id"] == "TRF-H");
  CHECK(listed["orders"][0]["kind"] == "transfer");
  CHECK(listed["orders"][0]["destination_store"] ==
        json{{"id", "STORE-042"}, {"name", "Riverside"}});
  CHECK(listed["orders"][0]["customer_name"] == "Riverside");
  CHECK(listed.dump() == transfers.body);  // written as text, the bytes a dump gives
  auto customers = t.get("/api/v1/orders?kind=customer").json();
  REQUIRE(customers["orders"].size() == 1);
  CHECK(customers["orders"][0]["kind"] == "customer");
  CHECK(customers["orders"][0]["destination_store"].is_null());
  CHECK(t.get("/api/v1/orders").json()["orders"].size() == 2);
  auto bad = t.get("/api/v1/orders?kind=gift");
  CHECK(bad.status == 400);
  CHECK(bad.error_code() == "invalid_query");

  auto order = t.get("/api/v1/orders/TRF-H").json();
  CHECK(order["kind"] == "transfer");
  CHECK(order["destination_store"]["id"] == "STORE-042");
  CHECK(order["notes"] == "before the weekend");
  CHECK(order["method"] == "ship");
  CHECK(order["address"]["city"] == "Kassel");
  CHECK(t.get("/api/v1/orders/FO-C").json()["destination_store"].is_null());

  REQUIRE(t.post("/api/v1/orders/TRF-H/accept", nullptr).status == 200);
  REQUIRE(t.post("/api/v1/orders/TRF-H/start-picking", nullptr).status == 200);
  for (int i = 0; i < 2; ++i)
    REQUIRE(t.post("/api/v1/orders/TRF-H/scan", {{"barcode", barcode_of(s, "SKU-0003")}}).status ==
            200);
  REQUIRE(t.post("/api/v1/orders/TRF-H/complete-picking", nullptr).status == 200);
  REQUIRE(
      t.post("/api/v1/orders/TRF-H/pack", {{"packages",
                                            {{{"box_type", "M"},
                                              {"weight_g", 900},
                                              {"items", {{{"line_no", 1}, {"quantity", 2}}}}}}}})
          .status == 200);
  auto manifest =
      t.post("/api/v1/manifests",
             {{"carrier", "DHL"}, {"parcels", {{{"order_id", "TRF-H"}, {"tracking", "JD042"}}}}});
  REQUIRE(manifest.status == 201);
  auto shipped = t.get("/api/v1/orders/TRF-H").json();
  CHECK(shipped["state"] == "shipped");
  CHECK(shipped["tracking"] == "JD042");
  CHECK(s.on_loop([&] {
    return count_rows(s.store->db(),
                      "ledger WHERE kind = 'transfer_out' AND reason = 'transfer out: STORE-042' "
                      "AND order_id = 'TRF-H' AND delta = -2");
  }) == 1);
}

// The dark modules an SVG from qr_svg() draws, read back from its path's runs
// ("M<x> <y>h<n>v1h-<n>z"), without the quiet zone.
std::set<std::pair<int, int>> drawn_modules(const std::string& svg) {
  std::set<std::pair<int, int>> dark;
  static const std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-\\3z");
  for (std::sregex_iterator it(svg.begin(), svg.end(), run), end; it != end; ++it) {
    const int x = std::stoi((*it)[1]) - 4, y = std::stoi((*it)[2]) - 4, n = std::stoi((*it)[3]);
    for (int i = 0; i < n; ++i) dark.insert({x + i, y});
  }
  return dark;
}

// What libqrencode itself makes of `text` with the endpoint's settings: {width, dark modules}.
std::pair<int, std::set<std::pair<int, int>>> encoded_modules(const std::string& text) {
  QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  REQUIRE(qr != nullptr);
  std::set<std::pair<int, int>> dark;
  for (int y = 0; y < qr->width; ++y)
    for (int x = 0; x < qr->width; ++x)
      if (qr->data[y * qr->width + x] & 1) dark.insert({x, y});
  const int width = qr->width;
  CHECK(width == 17 + 4 * qr->version);  // the symbol's size is its version's
  QRcode_free(qr);
  return {width, dark};
}

TEST_CASE("a pairing code's QR code opens the pairing screen where the manager reached the box") {
  ApiServer s;
  ApiClient manager(s.port, s.pair("manager"));
  manager.set_host("store-box.local:8080");
  auto issued = manager.post("/api/v1/pairing-codes", {{"role", "associate"}, {"name", "Tablet"}});
  REQUIRE(issued.status == 201);
  const std::string code = issued.json()["code"];
  const std::string url = "http://store-box.local:8080/#/pair/" + code;
  CHECK(issued.json()["pair_url"] == url);

  auto qr = manager.get("/api/v1/pairing-codes/" + code + "/qr.svg");
  REQUIRE(qr.status == 200);
  CHECK(qr.content_type == "image/svg+xml");
  CHECK(qr.body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(qr.body.find("<script") == std::string::npos);
  CHECK(qr.body.find("href") == std::string::npos);
  CHECK(issued.json()["qr_svg"] == qr.body);  // the POST's inline copy is the same picture
  // Read back, it is module for module the QR code of the URL, in a fixed viewBox with
  // a quiet zone of 4 modules.
  const auto [width, dark] = encoded_modules(url);
  const std::string side = std::to_string(width + 8);
  CHECK(qr.body.find("viewBox=\"0 0 " + side + " " + side + "\"") != std::string::npos);
  CHECK(drawn_modules(qr.body) == dark);
  CHECK(drawn_modules(qr.body) != encoded_modules(url + "0").second);  // the check can fail

  // A Host that is not a plain host[:port], or none (fulfilctl on the Unix socket): the
  // configured listen address.
  const std::string listen = "http://" + s.settings.api.listen_host + ":" +
                             std::to_string(s.settings.api.listen_port) + "/#/pair/";
  manager.set_host("evil.example/phish?x=");
  auto hostile = manager.post("/api/v1/pairing-codes", {{"role", "associate"}});
  REQUIRE(hostile.status == 201);
  CHECK(hostile.json()["pair_url"] == listen + hostile.json()["code"].get<std::string>());
  auto local = unix_request(s.socket, "POST", "/api/v1/pairing-codes", R"({"role":"manager"})");
  REQUIRE(local.status == 201);
  const std::string local_code = local.json()["code"];
  CHECK(local.json()["pair_url"] == listen + local_code);
  auto local_qr = unix_request(s.socket, "GET", "/api/v1/pairing-codes/" + local_code + "/qr.svg");
  CHECK(local_qr.status == 200);
  CHECK(drawn_modules(local_qr.body) == encoded_modules(listen + local_code).second);

  // Managers only; a code nobody issued, or one already used, is not found; not a code: 422.
  ApiClient associate(s.port, s.pair("associate"));
  auto forbidden = associate.get("/api/v1/pairing-codes/" + code + "/qr.svg");
  CHECK(forbidden.status == 403);
  CHECK(forbidden.error_code() == "forbidden");
  CHECK(ApiClient(s.port).get("/api/v1/pairing-codes/" + code + "/qr.svg").status == 401);
  auto unknown = manager.get("/api/v1/pairing-codes/000-000-000/qr.svg");
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "not_found");
  CHECK(unknown.json()["error"]["message"] ==
        "pairing code 000-000-000 is wrong, used or expired: issue a new one");
  CHECK(manager.get("/api/v1/pairing-codes/12ab/qr.svg").status == 422);
  // Expired: the same lookup at the instant the code expires (a code lives at least 60 s).
  const std::int64_t expires_at = issued.json()["expires_at"];
  auto pending = [&](std::int64_t now) {
    return s.on_loop([&] { return s.store->terminals().pending_code(code, now); });
  };
  CHECK(pending(expires_at - 1).has_value());
  REQUIRE_FALSE(pending(expires_at).has_value());
  CHECK(pending(expires_at).error().code == agent::DomainErrc::not_found);
  REQUIRE(ApiClient(s.port).post("/api/v1/pair", {{"code", code}}).status == 201);
  CHECK(manager.get("/api/v1/pairing-codes/" + code + "/qr.svg").status == 404);
}

// The queue is served from a body cached per query until the data changes: every committed
// change shows in the next GET (through the API, the domain, or another connection), a
// rolled-back one never does, and each filter keeps its own answer.
TEST_CASE("the cached order queue is never older than the last commit, per query") {
  ApiServer s;
  s.add_order("FO-1", DeliveryMethod::ship, {{"SKU-0001", 1}});
  ApiClient t(s.port, s.pair("associate"));
  ApiClient m(s.port, s.pair("manager", "Office"));
  auto ids = [](const Reply& r) {
    REQUIRE(r.status == 200);
    const auto body = r.json();
    std::vector<std::string> out;
    for (const auto& o : body["orders"]) out.push_back(o["id"]);
    return out;
  };
  const std::vector<std::string> one{"FO-1"}, none{};
  CHECK(ids(t.get("/api/v1/orders?state=routed")) == one);
  // Served again from the cache, the clock's fields are the request's own.
  const auto again = t.get("/api/v1/orders?state=routed").json();
  const auto& order = again["orders"][0];
  CHECK(order["accept_in_ms"].get<std::int64_t>() ==
        order["accept_by"].get<std::int64_t>() - again["now"].get<std::int64_t>());
  CHECK(m.get("/api/v1/orders?state=routed").body.find("\"FO-1\"") != std::string::npos);

  // Through the API: accepted, it leaves the routed queue and joins the accepted one.
  CHECK(ids(t.get("/api/v1/orders?state=accepted")) == none);
  REQUIRE(t.post("/api/v1/orders/FO-1/accept", nullptr).status == 200);
  CHECK(ids(t.get("/api/v1/orders?state=routed")) == none);
  CHECK(ids(t.get("/api/v1/orders?state=accepted")) == one);
  CHECK(t.get("/api/v1/orders").json()["counts"]["accepted"] == 1);

  // Through the domain (as the cloud feed does), and each filter answered on its own.
  s.add_order("FO-2", DeliveryMethod::pickup, {{"SKU-0002", 1}});
  CHECK(ids(t.get("/api/v1/orders?state=routed")) == std::vector<std::string>{"FO-2"});
  CHECK(ids(t.get("/api/v1/orders?method=pickup")) == std::vector<std::string>{"FO-2"});
  CHECK(ids(t.get("/api/v1/orders?method=ship")) == one);
  CHECK(ids(t.get("/api/v1/orders?limit=1")).size() == 1);
  CHECK(ids(t.get("/api/v1/orders")).size() == 2);
  CHECK(ids(t.get("/api/v1/orders?q=FO-2")) == std::vector<std::string>{"FO-2"});

  // A change rolled back is not shown, before or after.
  s.on_loop([&] {
    agent::Transaction tx(s.store->db());
    auto o = make_order("FO-3", DeliveryMethod::ship, {{"SKU-0003", 1}});
    REQUIRE(s.store->orders().receive(o, ctx(agent::now_ms())));
    return 0;  // no commit: rolled back
  });
  CHECK(ids(t.get("/api/v1/orders")).size() == 2);

  // Another connection's commit (a repair tool, say) shows too.
  CHECK(t.get("/api/v1/orders?state=routed").body.find("Renamed by hand") == std::string::npos);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(s.store.db_path().c_str(), &other) == SQLITE_OK);
  sqlite3_busy_timeout(other, 5000);
  CHECK(sqlite3_exec(other,
                     "UPDATE fulfilment_order SET customer_name='Renamed by hand' WHERE id='FO-2'",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  CHECK(t.get("/api/v1/orders?state=routed").body.find("Renamed by hand") != std::string::npos);
}

}  // namespace
}  // namespace fulfil::test
