// The fulfild binary as systemd and an operator meet it: readiness, stopping and the
// watchdog over a real NOTIFY_SOCKET, signals, configuration errors and reloads, the
// state-directory lock, corrupt databases, and /health over real HTTP on 127.0.0.1.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "daemon_harness.hpp"
#include "loopback.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::ChildProcess;
using fulfil::test::contains;
using fulfil::test::Daemon;
using fulfil::test::health;
using fulfil::test::NotifySocket;
using fulfil::test::ready_timeout;
using fulfil::test::scaled;
using fulfil::test::write_file;
using json = nlohmann::json;

namespace {

std::string fulfild() {
  return fulfil::test::built_program("agent/fulfild");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until `done(health)` or the timeout; returns the last /health body.
template <class F>
json poll_health(int port, std::chrono::milliseconds timeout, F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  json h = health(port);
  while (!done(h) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    h = health(port);
  }
  return h;
}

std::int64_t routed_count(const json& h) {
  return h["orders"].value("routed", std::int64_t{-1});
}

// Orders in every state.
std::int64_t order_total(const json& h) {
  std::int64_t total = 0;
  for (const auto& [state_name, n] : h["orders"].items()) total += n.get<std::int64_t>();
  return total;
}

// A program that exits by itself (a usage or configuration error, --help, ...).
struct Finished {
  int rc = -1;
  std::string out;
  std::string err;
};
Finished run_program(const std::string& program, const std::vector<std::string>& args) {
  ChildProcess p(program, args);
  auto rc = p.wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), program << " did not exit\n" << p.stderr_text());
  return {*rc, p.stdout_text(), p.stderr_text()};
}
Finished run_fulfild(const std::vector<std::string>& args) {
  return run_program(fulfild(), args);
}

// A count (`sql`, SELECT count(*) ...) read with plain SQLite while the daemon may be
// writing the database; -1 when the database or the table does not exist yet.
std::int64_t count_in(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

}  // namespace

TEST_CASE("--demo: READY=1, /health over TCP on 127.0.0.1 only, SIGTERM stops it with exit 0") {
  Daemon d;
  CHECK(contains(d.ready, "STATUS=serving store store-0001 on port "));

  // Every socket it listens on (the terminal API and the demo's cloud) is on loopback.
  const auto listening = fulfil::test::listening_addresses(d.child->pid());
  CHECK(std::find(listening.begin(), listening.end(), "127.0.0.1:" + std::to_string(d.port)) !=
        listening.end());
  for (const auto& a : listening) CHECK_MESSAGE(a.rfind("127.0.0.1:", 0) == 0, a);

  const json h = health(d.port);
  CHECK(h["status"] == "ok");
  CHECK(h["inventory"]["skus"] == 300);
  CHECK(h["store_id"] == "store-0001");
  CHECK(h["version"] == PROJECT_VERSION);
  auto missing = fulfil::test::http_get(d.port, "/no-such-endpoint");
  REQUIRE(missing.has_value());
  CHECK(missing->status == 404);

  CHECK(d.stop_promptly(SIGTERM) == 0);
  const std::string err = d.child->stderr_text();
  CHECK(contains(err, "msg=stopping signal=SIGTERM"));
  CHECK(contains(err, "msg=stopped exit_code=0"));
  CHECK_FALSE(contains(d.notify.received(), "WATCHDOG=1"));  // not asked for one
  // The listening socket went away with it.
  CHECK_FALSE(fulfil::test::http_get(d.port, "/health").has_value());
}

TEST_CASE("SIGINT stops it cleanly too") {
  Daemon d;
  CHECK(d.stop_promptly(SIGINT) == 0);
  CHECK(contains(d.child->stderr_text(), "msg=stopping signal=SIGINT"));
}

TEST_CASE("WATCHDOG_USEC=200000: WATCHDOG=1 at about half the interval, not in a busy loop") {
  Daemon d({}, {{"WATCHDOG_USEC", "200000"}});
  // qemu-user runs the daemon's timers in real time, but less promptly.
  const auto window = fulfil::test::emulated() ? 3000ms : 1500ms;
  if (fulfil::test::emulated())
    MESSAGE("under FULFIL_EMULATOR the watchdog window is " << window.count() << " ms");
  int pings = 0;
  const auto deadline = std::chrono::steady_clock::now() + window;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now())
    if (auto m =
            d.notify.receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        m && contains(*m, "WATCHDOG=1"))
      ++pings;
  CHECK(pings >= 2);
  // Every 100 ms: about 15 in 1.5 s. Many more would be a loop, not a timer.
  CHECK(pings <= 20 * window / 1500ms);
  CHECK(d.stop_promptly(SIGTERM) == 0);
}

TEST_CASE("an invalid configuration file is refused at start, naming each key and value") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/bad.json";
  const std::string state = dir.path() + "/state";
  write_file(config, R"({"orders": {"expiry_sweep_s": 0}, "colour": "blue"})");
  auto r = run_fulfild({"--config", config, "--state-dir", state, "--listen", "127.0.0.1:0"});
  CHECK(r.rc == 2);
  CHECK_MESSAGE(contains(r.err, "'orders.expiry_sweep_s': value 0 is refused"), r.err);
  CHECK_MESSAGE(contains(r.err, "'colour': value \"blue\" is refused"), r.err);
  CHECK(contains(r.err, config));
  CHECK_FALSE(contains(r.err, "msg=serving"));
  CHECK_MESSAGE(!std::filesystem::exists(state + "/fulfild.db"), "it opened the database");

  write_file(config, R"({"log": {"level": )");
  r = run_fulfild({"--config", config, "--state-dir", state});
  CHECK(r.rc == 2);
  CHECK_MESSAGE(contains(r.err, "valid JSON"), r.err);

  r = run_fulfild({"--config", dir.path() + "/missing.json", "--state-dir", state});
  CHECK(r.rc == 2);
  CHECK_MESSAGE(contains(r.err, "missing.json"), r.err);

  r = run_fulfild({"--set", "api.listen=nowhere", "--state-dir", state});
  CHECK(r.rc == 2);
  CHECK_MESSAGE(contains(r.err, "'api.listen': value \"nowhere\""), r.err);
}

TEST_CASE("--check-config, --help, --version and bad flags") {
  fulfil::test::TempDir dir;
  const std::string good = dir.path() + "/good.json";
  const std::string bad = dir.path() + "/bad.json";
  write_file(good, R"({"store": {"id": "de-berlin-042"}, "log": {"level": "warn"}})");
  write_file(bad, R"({"store": {"id": "has spaces"}, "log": {"level": "loud"}})");

  auto r = run_fulfild({"--check-config", good});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, good + " is valid"));
  r = run_fulfild({"--check-config", bad});
  CHECK(r.rc == 2);
  CHECK_MESSAGE(contains(r.err, "'store.id': value \"has spaces\""), r.err);
  CHECK_MESSAGE(contains(r.err, "'log.level': value \"loud\""), r.err);
  CHECK_FALSE(contains(r.out, "is valid"));
  r = run_fulfild({"--check-config"});
  CHECK(r.rc == 2);

  r = run_fulfild({"--help"});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "Usage: fulfild"));
  for (const char* flag : {"--config", "--state-dir", "--listen", "--demo", "--check-config"})
    CHECK_MESSAGE(contains(r.out, flag), flag);
  r = run_fulfild({"--version"});
  CHECK(r.rc == 0);
  CHECK(r.out == std::string("fulfild ") + PROJECT_VERSION + "\n");

  r = run_fulfild({"--frobnicate"});
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "unknown option '--frobnicate'"));
  CHECK(contains(r.err, "--help"));
  r = run_fulfild({"--state-dir"});
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "--state-dir needs a value"));
}

TEST_CASE("SIGHUP reloads the configuration file, and keeps the running one if the new is bad") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, R"({"log": {"level": "info"}})");
  Daemon d(std::vector<std::string>{"--config", config});

  write_file(config, R"({"log": {"level": "debug"}})");
  d.child->signal(SIGHUP);
  CHECK_MESSAGE(d.child->wait_for_stderr("msg=reloaded log_level=debug", scaled(5s)),
                d.child->stderr_text());

  write_file(config, R"({"log": {"level": "loud"}})");
  d.child->signal(SIGHUP);
  REQUIRE_MESSAGE(d.child->wait_for_stderr("reload refused", scaled(5s)), d.child->stderr_text());
  const std::string err = d.child->stderr_text();
  CHECK_MESSAGE(contains(err, "'log.level': value \\\"loud\\\""), err);
  CHECK(d.child->running());
  CHECK(health(d.port)["status"] == "ok");

  // A later good file is still picked up; what needs a restart (the schema's x-restart:
  // the store's id, where it listens) keeps its running value and says so.
  const std::string store_id = health(d.port)["store_id"];
  write_file(config, R"({"log": {"level": "info"}, "store": {"id": "store-other"},
                         "api": {"max_connections": 99}})");
  d.child->signal(SIGHUP);
  CHECK_MESSAGE(d.child->wait_for_stderr("msg=reloaded log_level=info", scaled(5s)),
                d.child->stderr_text());
  const std::string after = d.child->stderr_text();
  CHECK_MESSAGE(contains(after, "take effect at the next restart\" key=store.id"), after);
  CHECK_MESSAGE(contains(after, "take effect at the next restart\" key=api"), after);
  CHECK(health(d.port)["store_id"] == store_id);
  CHECK(d.stop_promptly(SIGTERM) == 0);
}

TEST_CASE("a second fulfild on the same state directory refuses to start; the first runs on") {
  Daemon first;
  NotifySocket notify;
  ChildProcess second(fulfild(), {"--demo", "--listen", "127.0.0.1:0", "--state-dir", first.state},
                      {{"NOTIFY_SOCKET", notify.path()}});
  auto rc = second.wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), second.stderr_text());
  CHECK(*rc == 1);
  CHECK_MESSAGE(contains(second.stderr_text(), "already running on " + first.state),
                second.stderr_text());
  CHECK_FALSE(notify.wait_for("READY=1", 100ms).has_value());
  CHECK(first.child->running());
  CHECK(health(first.port)["inventory"]["skus"] == 300);
  CHECK(first.stop_promptly(SIGTERM) == 0);
}

TEST_CASE("a file that is not a database is refused with a clear message and left as it was") {
  fulfil::test::TempDir state;
  const std::string db = state.path() + "/fulfild.db";
  const std::string garbage = std::string(8192, 'x') + "this is not a database";
  write_file(db, garbage);
  NotifySocket notify;
  ChildProcess child(fulfild(), {"--demo", "--listen", "127.0.0.1:0", "--state-dir", state.path()},
                     {{"NOTIFY_SOCKET", notify.path()}});
  auto rc = child.wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), child.stderr_text());
  CHECK(*rc == 1);
  const std::string err = child.stderr_text();
  CHECK_MESSAGE(contains(err, db), err);
  CHECK_MESSAGE((contains(err, "not a database") || contains(err, "corrupt")), err);
  CHECK_FALSE(notify.wait_for("READY=1", 100ms).has_value());
  CHECK(read_file(db) == garbage);  // evidence kept: not "repaired" or recreated
}

TEST_CASE("a database with a damaged page fails the integrity check at start") {
  fulfil::test::TempDir state;
  const std::string db = state.path() + "/fulfild.db";
  {
    auto t = fulfil::agent::Store::open({db, "full", 1000}, fulfil::agent::OrderPolicy{});
    REQUIRE(t.has_value());
    fulfil::test::seed_catalog(**t, 400, 10);
  }  // closing the last connection checkpoints the WAL into the file
  REQUIRE_FALSE(std::filesystem::exists(db + "-wal"));
  const auto size = std::filesystem::file_size(db);
  REQUIRE(size > 16 * 4096);
  // Scribble over the middle of the file: b-tree pages of the catalog and the ledger.
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    const std::string junk(3 * 4096, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ChildProcess child(fulfild(), {"--listen", "127.0.0.1:0", "--state-dir", state.path(), "--set",
                                 "storage.integrity_check=quick"});
  auto rc = child.wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), child.stderr_text());
  CHECK(*rc == 1);
  const std::string err = child.stderr_text();
  CHECK_MESSAGE(contains(err, db + " is corrupt"), err);
  CHECK_MESSAGE(contains(err, "refusing to start"), err);
}

TEST_CASE("integrity_check=background: a damaged catalog page is found after READY") {
  fulfil::test::TempDir state;
  const std::string db = state.path() + "/fulfild.db";
  std::int64_t sku_root = 0;
  {
    auto t = fulfil::agent::Store::open({db, "full", 1000}, fulfil::agent::OrderPolicy{});
    REQUIRE(t.has_value());
    fulfil::test::seed_catalog(**t, 400, 10);
    auto s = (*t)->db().prepare("SELECT rootpage FROM sqlite_master WHERE name='sku'");
    REQUIRE(s.step());
    sku_root = s.int64(0);
  }  // closing the last connection checkpoints the WAL into the file
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>((sku_root - 1) * 4096));
    const std::string junk(4096, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  NotifySocket notify;
  ChildProcess child(fulfild(),
                     {"--listen", "127.0.0.1:0", "--state-dir", state.path(), "--set",
                      "storage.integrity_check=background"},
                     {{"NOTIFY_SOCKET", notify.path()}});
  auto ready = notify.wait_for("READY=1", ready_timeout());
  REQUIRE_MESSAGE(ready.has_value(), child.stderr_text());
  const auto port = fulfil::test::notified_port(*ready);
  REQUIRE(port.has_value());
  auto integrity_state = [&] {
    auto r = fulfil::test::http_get(*port, "/health");
    REQUIRE(r.has_value());
    return json::parse(r->body);
  };
  const auto h = fulfil::test::poll_until(scaled(10s), integrity_state, [](json j) {
    const json i = j["storage"]["integrity"];
    return i.is_object() && i.value("state", "") != "running";
  });
  CHECK_MESSAGE(h.at("storage").at("integrity").at("state") == "failed", h.dump());
  CHECK(h["status"] == "failing");
  CHECK_MESSAGE(contains(h["storage"]["alarms"].dump(), "database_corrupt"), h.dump());
  CHECK(child.wait_for_stderr("database integrity check failed", scaled(2s)));
  child.signal(SIGTERM);
  CHECK(child.wait(scaled(10s)) == 0);
}

TEST_CASE("demo orders arrive through the simulated cloud and survive a restart") {
  fulfil::test::TempDir state;
  std::int64_t orders_before = 0;
  {
    Daemon d({}, {}, state.path());
    const json h = poll_health(d.port, scaled(10s), [](const json& now) {
      return routed_count(now) >= 1 && now["outbox"]["last_seq"] > 300;
    });
    CHECK_MESSAGE(routed_count(h) >= 1, h.dump());
    CHECK(h["outbox"]["last_seq"] > 300);  // 300 opening-stock events, then order.received
    orders_before = order_total(h);
    CHECK(d.stop_promptly(SIGTERM) == 0);
  }
  {
    // Same state directory: nothing seeded twice, nothing lost; the new demo cloud enrols
    // the store again and new orders (with new ids) keep arriving.
    Daemon d({}, {}, state.path());
    const json h = health(d.port);
    CHECK(h["inventory"]["skus"] == 300);
    CHECK(order_total(h) >= orders_before);
    const json later = poll_health(d.port, scaled(10s), [&](const json& now) {
      return order_total(now) > orders_before && now["sync"]["enrolled"] == true;
    });
    CHECK_MESSAGE(order_total(later) > orders_before, later.dump());
    CHECK_MESSAGE(later["sync"]["credential_revoked"] == false, later.dump());
    CHECK(d.stop_promptly(SIGTERM) == 0);
  }
  auto store = fulfil::agent::Store::open({state.path() + "/fulfild.db", "full", 1000},
                                          fulfil::agent::OrderPolicy{});
  REQUIRE(store.has_value());
  CHECK(fulfil::test::invariant_violations((*store)->db()).empty());
  auto receipts =
      (*store)->db().prepare("SELECT count(*) FROM ledger WHERE reason='opening stock'");
  REQUIRE(receipts.step());
  CHECK(receipts.int64(0) == 300);
  // The demo's inbound shipment came through the feed, once, and waits to be received.
  auto shipment = (*store)->receiving().find("ASN-DEMO-1");
  REQUIRE(shipment.has_value());
  CHECK(shipment->state == fulfil::agent::ShipmentState::expected);
  CHECK(shipment->lines.size() == 3);
  auto refused = (*store)->db().prepare(
      "SELECT count(*) FROM outbox WHERE type='command.rejected' AND "
      "json_extract(payload, '$.command_type') LIKE 'shipment.%'");
  REQUIRE(refused.step());
  CHECK(refused.int64(0) == 0);
}

TEST_CASE("a capacity pause that runs out is reported by the daemon's sweep, once") {
  Daemon d(std::vector<std::string>{"--set", "orders.expiry_sweep_s=1"});
  const std::string token = fulfil::test::paired_token(d, "manager");
  auto paused = fulfil::test::http_request(
      d.port, "POST", "/api/v1/capacity/pause",
      json{{"reason", "closing_early"}, {"until", fulfil::config::now_ms() + scaled(2s).count()}}
          .dump(),
      {"Authorization: Bearer " + token});
  REQUIRE(paused.has_value());
  REQUIRE_MESSAGE(paused->status == 200, paused->body);
  const std::string db = d.state + "/fulfild.db";
  const auto expired = [&] {
    return count_in(db,
                    "SELECT count(*) FROM outbox WHERE type='store.capacity_changed' AND "
                    "json_extract(payload, '$.change')='resumed' AND "
                    "json_extract(payload, '$.cause')='pause_expired'");
  };
  CHECK(fulfil::test::poll_until(scaled(15s), expired, [](std::int64_t n) { return n >= 1; }) == 1);
  CHECK(count_in(db, "SELECT count(*) FROM store_pause") == 0);
  CHECK(d.stop_promptly(SIGTERM) == 0);
  CHECK(expired() == 1);  // the sweeps after it had nothing more to say
}

TEST_CASE("--demo: the till's drop folder is imported at start, and files dropped later too") {
  Daemon d;
  const std::string folder = d.state + "/till-drop";
  const json h =
      poll_health(d.port, scaled(10s), [](const json& now) { return now["pos"]["applied"] == 2; });
  CHECK_MESSAGE(h["pos"]["applied"] == 2, h.dump());
  CHECK(std::filesystem::exists(folder + "/done/0001-sale.json"));
  CHECK(std::filesystem::exists(folder + "/done/0002-return.csv"));
  // A till writes under a '.' name, then renames; a file that is not JSON is quarantined.
  write_file(folder + "/.0003.json.tmp",
             R"({"transaction_id": "R-3", "kind": "sale", "lines": [{"sku": "SKU-10001", )"
             R"("quantity": 1}]})");
  std::filesystem::rename(folder + "/.0003.json.tmp", folder + "/0003.json");
  write_file(folder + "/0004.json", "a till's crash dump");
  const json later = poll_health(d.port, scaled(10s), [](const json& now) {
    return now["pos"]["applied"] == 3 && now["pos"]["quarantined"] == 1;
  });
  CHECK_MESSAGE(later["pos"]["applied"] == 3, later.dump());
  CHECK_MESSAGE(later["pos"]["quarantined"] == 1, later.dump());
  CHECK(std::filesystem::exists(folder + "/quarantine/0004.json.error.txt"));
  CHECK(d.stop_promptly(SIGTERM) == 0);
  auto store = fulfil::agent::Store::open({d.state + "/fulfild.db", "full", 1000},
                                          fulfil::agent::OrderPolicy{});
  REQUIRE(store.has_value());
  CHECK((*store)->till_sales().find("till-1", "R-3").has_value());
  CHECK(fulfil::test::invariant_violations((*store)->db()).empty());
}

TEST_CASE("kill -9 during the first --demo start: the restart still has the whole catalog") {
  fulfil::test::TempDir state;
  const std::string db = state.path() + "/fulfild.db";
  {
    ChildProcess first(fulfild(),
                       {"--demo", "--listen", "127.0.0.1:0", "--state-dir", state.path()});
    // Kill it as soon as any SKU is visible: in the middle of seeding, if seeding is not
    // one transaction.
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout();
    std::int64_t seen = -1;
    while (seen <= 0 && first.running() && std::chrono::steady_clock::now() < deadline) {
      seen = count_in(db, "SELECT count(*) FROM sku");
      if (seen <= 0) std::this_thread::sleep_for(1ms);
    }
    first.signal(SIGKILL);
    REQUIRE(first.wait(scaled(5s)).has_value());
    MESSAGE("killed with " << seen << " SKUs visible");
  }
  Daemon d({}, {}, state.path());
  CHECK(health(d.port)["inventory"]["skus"] == 300);
  CHECK(d.stop_promptly(SIGTERM) == 0);
}

namespace {

Finished run_fulfilctl(const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin(), {"--socket", socket});
  return run_program(fulfil::test::built_program("agent/fulfilctl"), args);
}

}  // namespace

TEST_CASE("fulfilctl over the Unix socket: status, orders, pairing, revoking, exit codes") {
  Daemon d;
  const std::string socket = d.state + "/api.sock";
  auto status = run_fulfilctl(socket, {"status"});
  CHECK_MESSAGE(status.rc == 0, status.err);
  CHECK(contains(status.out, "store-0001"));

  poll_health(d.port, scaled(10s), [](const json& h) { return routed_count(h) >= 1; });
  auto orders = run_fulfilctl(socket, {"orders", "--json", "--state", "routed"});
  REQUIRE_MESSAGE(orders.rc == 0, orders.err);
  const auto listed = json::parse(orders.out)["orders"];
  REQUIRE(listed.size() >= 1);
  auto one = run_fulfilctl(socket, {"order", listed[0]["id"].get<std::string>()});
  CHECK(one.rc == 0);
  CHECK(contains(one.out, "SKU-"));

  auto code =
      run_fulfilctl(socket, {"pair", "--role", "associate", "--name", "Counter 1", "--json"});
  REQUIRE_MESSAGE(code.rc == 0, code.err);
  auto paired = fulfil::test::http_request(d.port, "POST", "/api/v1/pair",
                                           json{{"code", json::parse(code.out)["code"]}}.dump());
  REQUIRE(paired.has_value());
  REQUIRE_MESSAGE(paired->status == 201, paired->body);
  const std::string id = json::parse(paired->body)["id"];
  auto terminals = run_fulfilctl(socket, {"terminals"});
  CHECK(contains(terminals.out, id));
  CHECK(contains(terminals.out, "Counter 1"));
  CHECK(run_fulfilctl(socket, {"revoke", id}).rc == 0);
  auto again = run_fulfilctl(socket, {"revoke", id});
  CHECK(again.rc == 1);  // refused by the agent, with its reason
  CHECK(contains(again.err, "already revoked"));
  CHECK(run_fulfilctl(socket, {"pair"}).rc == 2);  // --role is required
  // Values are URL-encoded: a bad state reaches the agent and is refused by it (1).
  auto bad_state = run_fulfilctl(socket, {"orders", "--state", "lost & found"});
  CHECK(bad_state.rc == 1);
  CHECK(contains(bad_state.err, "unknown order state 'lost & found'"));
  CHECK(run_fulfilctl(socket, {"frobnicate"}).rc == 2);
  CHECK(run_fulfilctl(d.state + "/nothing.sock", {"status"}).rc == 3);
  // Parsing a scan needs no agent.
  auto parsed =
      run_fulfilctl(d.state + "/nothing.sock", {"barcode", "parse", "04252614", "--json"});
  CHECK_MESSAGE(parsed.rc == 0, parsed.err);
  CHECK(json::parse(parsed.out)["gtin14"] == "00042100005264");
  auto bad = run_fulfilctl(socket, {"barcode", "parse", "(17)251301"});
  CHECK(bad.rc == 1);
  CHECK(contains(bad.err, "month 13"));
  auto help = run_fulfilctl(socket, {"--help"});
  CHECK(help.rc == 0);
  CHECK(contains(help.out, "exit codes"));
  CHECK(d.stop_promptly(SIGTERM) == 0);
}

namespace {

json scanner_state(const json& h, const std::string& id) {
  if (!h.contains("scanners")) return nullptr;
  for (const auto& s : h["scanners"]["scanners"])
    if (s["id"] == id) return s;
  return nullptr;
}

bool send_all(int fd, const std::string& bytes) {
  return ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

}  // namespace

TEST_CASE("configured scanners: a serial scanner on a pty and a network sled feed fulfild") {
  int master = -1, slave = -1;
  char slave_path[256];
  REQUIRE(::openpty(&master, &slave, slave_path, nullptr, nullptr) == 0);
  ::close(slave);  // fulfild opens it by path, as it would /dev/ttyACM0
  // The test plays a network scanner sled on a loopback port: fulfild connects to it.
  fulfil::test::LoopbackPort sled;
  sled.listen();
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  const json serial = {{"id", "desk1-serial"},
                       {"kind", "serial"},
                       {"station", "desk-1"},
                       {"device", slave_path},
                       {"baud", 115200}};
  const json network = {{"id", "sled-2"},
                        {"kind", "network"},
                        {"station", "desk-2"},
                        {"host", "127.0.0.1"},
                        {"port", sled.port()}};
  write_file(config, json{{"scanners", {serial, network}}}.dump());
  Daemon d(std::vector<std::string>{"--config", config});

  const int agent = sled.accept(scaled(10s));
  REQUIRE_MESSAGE(agent >= 0, "fulfild did not connect to the sled\n" << d.child->stderr_text());
  auto h = poll_health(d.port, scaled(10s), [](const json& h) {
    return scanner_state(h, "desk1-serial")["state"] == "connected" &&
           scanner_state(h, "sled-2")["state"] == "connected";
  });
  REQUIRE_MESSAGE(scanner_state(h, "sled-2")["state"] == "connected", h.dump());
  CHECK(scanner_state(h, "desk1-serial")["detail"] == std::string(slave_path) + " at 115200 baud");
  CHECK(h["scanners"]["alarms"].empty());

  // Reads from both arrive (with no session open they are shown, not picked).
  REQUIRE(send_all(master, "]E04006381333931\r"));
  REQUIRE(send_all(agent, "96385074\r\n"));
  h = poll_health(d.port, scaled(10s), [](const json& h) {
    return scanner_state(h, "desk1-serial")["scans"] == 1 &&
           scanner_state(h, "sled-2")["scans"] == 1;
  });
  CHECK(scanner_state(h, "desk1-serial")["scans"] == 1);
  CHECK(scanner_state(h, "sled-2")["scans"] == 1);
  CHECK(scanner_state(h, "sled-2")["last_scan_at"] > 0);

  // The sled drops its link: an alarm, and fulfild reconnects by itself.
  ::close(agent);
  h = poll_health(d.port, scaled(10s), [](const json& h) {
    return scanner_state(h, "sled-2")["state"] == "disconnected";
  });
  CHECK(scanner_state(h, "sled-2")["state"] == "disconnected");
  REQUIRE(h["scanners"]["alarms"].size() == 1);
  CHECK(contains(h["scanners"]["alarms"][0], "scanner sled-2: disconnected"));
  const int again = sled.accept(scaled(10s));
  CHECK(again >= 0);

  auto listed = run_fulfilctl(d.state + "/api.sock", {"devices"});
  CHECK_MESSAGE(listed.rc == 0, listed.err);
  CHECK(contains(listed.out, "desk1-serial"));
  CHECK(contains(listed.out, "desk-2"));

  // SIGHUP with the sled removed from the config: the scanners reopen without it.
  write_file(config, json{{"scanners", {serial}}}.dump());
  d.child->signal(SIGHUP);
  h = poll_health(d.port, scaled(10s),
                  [](const json& h) { return h["scanners"]["scanners"].size() == 1; });
  CHECK(h["scanners"]["scanners"].size() == 1);
  CHECK(d.stop_promptly(SIGTERM) == 0);
  if (again >= 0) ::close(again);
  ::close(master);
}

TEST_CASE("scanner entries are checked per kind at start, each problem named") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, R"({"scanners": [
      {"id": "a", "kind": "hidpos", "station": "desk-1", "usb_vendor_id": "05e0"},
      {"id": "a", "kind": "network", "station": "desk-1", "host": "sled.local"},
      {"id": "c", "kind": "laser", "station": "desk-1"},
      {"kind": "serial", "station": "desk-1", "device": "/dev/ttyACM0", "baud": 9601}]})");
  auto r = run_fulfild({"--check-config", config});
  CHECK(r.rc != 0);
  CHECK_MESSAGE(contains(r.err, "'scanners[2].kind': value \"laser\""), r.err);
  CHECK_MESSAGE(contains(r.err, "'scanners[3].id' is missing"), r.err);
  CHECK_MESSAGE(contains(r.err, "'scanners[3].baud': value 9601"), r.err);

  write_file(config, R"({"scanners": [
      {"id": "a", "kind": "hidpos", "station": "desk-1", "usb_vendor_id": "05e0"},
      {"id": "a", "kind": "network", "station": "desk-1", "host": "sled.local"}]})");
  r = run_fulfild({"--check-config", config});
  CHECK(r.rc != 0);
  CHECK_MESSAGE(contains(r.err, "'scanners[0].usb_product_id' is missing"), r.err);
  CHECK_MESSAGE(contains(r.err, "'scanners[1].port' is missing"), r.err);
  CHECK_MESSAGE(contains(r.err, "'scanners[1].id': value \"a\""), r.err);
}

TEST_CASE("retention runs on the loop: old audit rows go, /health shows the pass") {
  Daemon d(std::vector<std::string>{"--set", "retention.interval_s=1"});
  const std::string db_path = d.state + "/fulfild.db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const auto old = fulfil::config::now_ms() - 400LL * 24 * 3600 * 1000;
    const std::string sql =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 30) INSERT INTO "
        "audit (at, actor, role, action, status) SELECT " +
        std::to_string(old) + ", 'test', 'manager', 'POST /old', 200 FROM n";
    CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  const auto old_rows = [&] {
    return count_in(db_path, "SELECT count(*) FROM audit WHERE action='POST /old'");
  };
  CHECK(fulfil::test::poll_until(scaled(15s), old_rows, [](std::int64_t n) { return n == 0; }) ==
        0);
  const json h = health(d.port);
  CHECK(h["storage"]["retention"].contains("last_pass_at"));
  CHECK(h["storage"]["retention"].contains("batches"));
  CHECK(h["status"] != "failing");
  CHECK(d.stop_promptly(SIGTERM) == 0);
}
