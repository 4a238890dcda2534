// fulfild and fulfil-cloudsim as real processes: the agent is killed (SIGKILL) right
// after receiving a feed page (before applying it) and right after the cloud acknowledged
// a batch (before recording the acknowledgement). After a restart nothing is lost and
// nothing is applied or recorded twice.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "child_process.hpp"
#include "loopback.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::ChildProcess;
using nlohmann::json;

namespace {

std::chrono::milliseconds scaled(std::chrono::milliseconds t) {
  return t * fulfil::test::slowdown();
}

struct Cloud {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  Cloud() {
    process = std::make_unique<ChildProcess>(fulfil::test::built_program("sync/fulfil-cloudsim"),
                                             std::vector<std::string>{"--enrolment-code", "C1"});
    REQUIRE_MESSAGE(process->wait_for_stderr("listening on", scaled(10s)), process->stderr_text());
    // The rest of the line (the port) may arrive in a later read than "listening on".
    const std::regex address("127\\.0\\.0\\.1:(\\d+)");
    const auto deadline = std::chrono::steady_clock::now() + scaled(10s);
    std::smatch m;
    std::string text = process->stderr_text();
    while (!std::regex_search(text, m, address) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      text = process->stderr_text();
    }
    REQUIRE_MESSAGE(std::regex_search(text, m, address), text);
    port = std::stoi(m[1]);
  }
  void command(const json& c) {
    auto r =
        fulfil::test::http_request(port, "POST", "/admin/stores/store-0001/commands", c.dump());
    REQUIRE(r.has_value());
    REQUIRE(r->status == 201);
  }
  json events() {
    auto r = fulfil::test::http_get(port, "/admin/stores/store-0001/events");
    REQUIRE(r.has_value());
    return json::parse(r->body);
  }
  int count(const std::string& type) {
    int n = 0;
    const json all = events();
    for (const auto& e : all["events"]) n += e["type"] == type;
    return n;
  }
};

json routed(const std::string& id) {
  return {{"type", "order.routed"},
          {"payload",
           {{"id", id},
            {"delivery_method", "pickup"},
            {"currency", "EUR"},
            {"customer", {{"name", "Siti Nurhaliza"}}},
            {"lines", {{{"line_no", 1}, {"sku", "K-1"}, {"quantity", 1}}}}}}};
}

std::unique_ptr<ChildProcess> agent(const Cloud& cloud, const std::string& state,
                                    const std::string& crash_point) {
  std::map<std::string, std::string> env;
  if (!crash_point.empty()) env["FULFIL_CRASH_POINT"] = crash_point;
  return std::make_unique<ChildProcess>(
      fulfil::test::built_program("agent/fulfild"),
      std::vector<std::string>{"--state-dir", state, "--listen", "127.0.0.1:0", "--set",
                               "sync.cloud_url=http://127.0.0.1:" + std::to_string(cloud.port),
                               "--set", "sync.enrolment_code=C1", "--set", "sync.feed_wait_s=1",
                               "--set", "sync.backoff_initial_ms=50", "--set",
                               "sync.backoff_max_ms=500"},
      env);
}

}  // namespace

TEST_CASE("killed between receiving a feed page and applying it, or between ack and record") {
  Cloud cloud;
  fulfil::test::TempDir state;
  cloud.command({{"type", "catalog.upsert"},
                 {"payload", {{"items", {{{"sku", "K-1"}, {"title", "Kettle"}}}}}}});
  cloud.command(routed("FO-K1"));
  cloud.command(routed("FO-K2"));

  // 1. Dies with the first page in hand, before applying any of it.
  {
    auto a = agent(cloud, state.path(), "feed_received");
    auto rc = a->wait(scaled(20s));
    REQUIRE_MESSAGE(rc.has_value(), a->stderr_text());
    CHECK(*rc == 128 + SIGKILL);
  }
  CHECK(cloud.count("order.received") == 0);

  // 2. A clean run applies the page once and delivers its events.
  {
    auto a = agent(cloud, state.path(), "");
    CHECK_MESSAGE(
        fulfil::test::eventually(scaled(20s), [&] { return cloud.count("order.received") == 2; }),
        a->stderr_text() << cloud.events().dump());
    a->signal(SIGTERM);
    CHECK(a->wait(scaled(5s)) == 0);
  }

  // 3. Dies after the cloud recorded a batch but before the agent marked it sent.
  cloud.command(routed("FO-K3"));
  {
    auto a = agent(cloud, state.path(), "batch_acknowledged");
    auto rc = a->wait(scaled(20s));
    REQUIRE_MESSAGE(rc.has_value(), a->stderr_text());
    CHECK(*rc == 128 + SIGKILL);
  }
  CHECK(cloud.count("order.received") == 3);

  // 4. The restart sends that batch again: the cloud sees duplicates, records each once.
  {
    auto a = agent(cloud, state.path(), "");
    CHECK(fulfil::test::eventually(scaled(20s),
                                   [&] { return cloud.events()["duplicates"].get<int>() > 0; }));
    auto port = fulfil::test::served_port(a->stderr_text());
    REQUIRE(port.has_value());
    CHECK(fulfil::test::eventually(scaled(20s), [&] {
      auto h = fulfil::test::http_get(*port, "/health");
      return h && json::parse(h->body)["outbox"]["pending"] == 0;
    }));
    auto h = json::parse(fulfil::test::http_get(*port, "/health")->body);
    CHECK(h["orders"]["routed"] == 3);
    a->signal(SIGTERM);
    CHECK(a->wait(scaled(5s)) == 0);
  }
  CHECK(cloud.count("order.received") == 3);
  std::set<std::string> ids;
  const json all = cloud.events();
  for (const auto& e : all["events"]) CHECK(ids.insert(e["id"].get<std::string>()).second);
}
