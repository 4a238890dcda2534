// The fulfild binary as systemd and an operator meet it: readiness and watchdog over a
// real NOTIFY_SOCKET, signals, configuration errors, the state-directory lock, a corrupt
// database, and the health endpoint over real HTTP.
#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::ChildProcess;
using fulfil::test::NotifySocket;

namespace {

std::string fulfild() {
  return fulfil::test::built_program("agent/fulfild");
}
std::chrono::milliseconds scaled(std::chrono::milliseconds t) {
  return t * fulfil::test::slowdown();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A demo daemon on a free port with systemd's notification socket.
struct RunningDaemon {
  fulfil::test::TempDir state;
  NotifySocket notify;
  std::unique_ptr<ChildProcess> child;
  int port = 0;

  explicit RunningDaemon(std::vector<std::string> extra = {},
                         std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {"--demo", "--listen", "127.0.0.1:0", "--state-dir",
                                     state.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    env["NOTIFY_SOCKET"] = notify.path();
    child = std::make_unique<ChildProcess>(fulfild(), args, env);
    REQUIRE_MESSAGE(notify.wait_for("READY=1", scaled(20s)), child->stderr_text());
    auto p = fulfil::test::served_port(child->stderr_text());
    REQUIRE_MESSAGE(p.has_value(), child->stderr_text());
    port = *p;
  }
};

}  // namespace

TEST_CASE("fulfild signals READY, serves /health, and stops on SIGTERM within 2 s") {
  RunningDaemon d;
  auto health = fulfil::test::http_get(d.port, "/health");
  REQUIRE(health.has_value());
  CHECK(health->status == 200);
  auto body = nlohmann::json::parse(health->body);
  CHECK(body["status"] == "ok");
  CHECK(body["inventory"]["skus"] == 300);
  CHECK(body["store_id"] == "store-0001");

  const auto t0 = std::chrono::steady_clock::now();
  d.child->signal(SIGTERM);
  CHECK(d.notify.wait_for("STOPPING=1", scaled(2s)));
  auto rc = d.child->wait(scaled(2s));
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_MESSAGE(rc.has_value(), "fulfild did not stop after SIGTERM");
  CHECK(*rc == 0);
  CHECK(took < scaled(2s));
  CHECK(d.child->stderr_text().find("msg=stopped exit_code=0") != std::string::npos);
}

TEST_CASE("SIGINT stops it cleanly too") {
  RunningDaemon d;
  d.child->signal(SIGINT);
  auto rc = d.child->wait(scaled(2s));
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
}

TEST_CASE("with WATCHDOG_USEC set it pings the watchdog at half the interval") {
  RunningDaemon d({}, {{"WATCHDOG_USEC", std::to_string(200000 * fulfil::test::slowdown())}});
  int pings = 0;
  const auto deadline = std::chrono::steady_clock::now() + scaled(1500ms);
  while (std::chrono::steady_clock::now() < deadline && pings < 3)
    if (auto m = d.notify.receive(scaled(500ms)); m && m->find("WATCHDOG=1") != std::string::npos)
      ++pings;
  CHECK(pings >= 2);
}

TEST_CASE("demo orders arrive through the simulated cloud feed") {
  RunningDaemon d;
  int routed = 0;
  const auto deadline = std::chrono::steady_clock::now() + scaled(15s);
  while (routed == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    if (auto h = fulfil::test::http_get(d.port, "/health"))
      routed = nlohmann::json::parse(h->body)["orders"]["routed"];
  }
  CHECK(routed >= 1);
}

TEST_CASE("SIGHUP reloads the configuration file, and keeps the old one if the new is bad") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, R"({"log": {"level": "info"}})");
  RunningDaemon d({"--config", config});
  write_file(config, R"({"log": {"level": "debug"}})");
  d.child->signal(SIGHUP);
  CHECK(d.child->wait_for_stderr("msg=reloaded log_level=debug", scaled(5s)));
  write_file(config, R"({"log": {"level": "loud"}})");
  d.child->signal(SIGHUP);
  CHECK(d.child->wait_for_stderr("reload refused", scaled(5s)));
  CHECK(d.child->stderr_text().find("log.level") != std::string::npos);
  auto health = fulfil::test::http_get(d.port, "/health");
  REQUIRE(health.has_value());
  CHECK(health->status == 200);
}

TEST_CASE("a second fulfild on the same state directory refuses to start") {
  RunningDaemon first;
  ChildProcess second(fulfild(), {"--listen", "127.0.0.1:0", "--state-dir", first.state.path()});
  auto rc = second.wait(scaled(10s));
  REQUIRE(rc.has_value());
  CHECK(*rc == 1);
  CHECK(second.stderr_text().find("already running") != std::string::npos);
  CHECK(fulfil::test::http_get(first.port, "/health").has_value());
}

TEST_CASE("a corrupt database is refused with a clear message") {
  fulfil::test::TempDir state;
  write_file(state.path() + "/fulfild.db", std::string(8192, 'x') + "this is not a database");
  ChildProcess child(fulfild(), {"--listen", "127.0.0.1:0", "--state-dir", state.path()});
  auto rc = child.wait(scaled(10s));
  REQUIRE(rc.has_value());
  CHECK(*rc == 1);
  const std::string err = child.stderr_text();
  CHECK(err.find("fulfild.db") != std::string::npos);
  CHECK((err.find("not a database") != std::string::npos ||
         err.find("corrupt") != std::string::npos));
}

TEST_CASE("invalid configuration is refused at start, naming the key and the value") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/bad.json";
  write_file(config, R"({"orders": {"expiry_sweep_s": 0}, "color": "blue"})");
  ChildProcess child(fulfild(), {"--config", config, "--state-dir", dir.path()});
  auto rc = child.wait(scaled(10s));
  REQUIRE(rc.has_value());
  CHECK(*rc == 2);
  const std::string err = child.stderr_text();
  CHECK(err.find("orders.expiry_sweep_s") != std::string::npos);
  CHECK(err.find("value 0") != std::string::npos);
  CHECK(err.find("'color'") != std::string::npos);

  ChildProcess flag(fulfild(), {"--set", "api.listen=nowhere", "--state-dir", dir.path()});
  REQUIRE(flag.wait(scaled(10s)) == 2);
  CHECK(flag.stderr_text().find("api.listen") != std::string::npos);
}

TEST_CASE("--check-config, --help, --version and unknown flags") {
  fulfil::test::TempDir dir;
  const std::string good = dir.path() + "/good.json";
  const std::string bad = dir.path() + "/bad.json";
  write_file(good, R"({"store": {"id": "de-berlin-042"}})");
  write_file(bad, R"({"store": {"id": "has spaces"}})");
  ChildProcess ok(fulfild(), {"--check-config", good});
  CHECK(ok.wait(scaled(10s)) == 0);
  ChildProcess refused(fulfild(), {"--check-config", bad});
  CHECK(refused.wait(scaled(10s)) == 2);
  CHECK(refused.stderr_text().find("store.id") != std::string::npos);
  ChildProcess help(fulfild(), {"--help"});
  CHECK(help.wait(scaled(10s)) == 0);
  CHECK(help.stderr_text().find("--check-config") != std::string::npos);
  ChildProcess version(fulfild(), {"--version"});
  CHECK(version.wait(scaled(10s)) == 0);
  CHECK(version.stderr_text().find("fulfild 0.") != std::string::npos);
  ChildProcess unknown(fulfild(), {"--frobnicate"});
  CHECK(unknown.wait(scaled(10s)) == 2);
  CHECK(unknown.stderr_text().find("--frobnicate") != std::string::npos);
}
