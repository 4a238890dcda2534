// Remote configuration from brand IT over the real feed: the reference cloud
// (fulfil-cloudsim) signs configurations with a brand key and fulfild, trusting that key's
// public half, verifies, applies on trial, health-checks and commits or rolls back, and
// reports each outcome as an event. Refused: a tampered document, a wrong key, a replayed
// version, an invalid value, a local-only key. Rolled back: a printer that cannot be
// reached within the deadline, and a trial the agent was killed during.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <regex>

#include "config/remote_config.hpp"
#include "daemon_harness.hpp"
#include "loopback.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::ChildProcess;
using fulfil::test::Daemon;
using fulfil::test::poll_until;
using fulfil::test::scaled;
using json = nlohmann::json;

namespace {

constexpr const char* kStore = "store-0001";

// fulfil-cloudsim as a child process, signing with `signing_key_file`.
struct Cloud {
  std::unique_ptr<ChildProcess> process;
  int port = 0;

  explicit Cloud(const std::string& signing_key_file) {
    process = std::make_unique<ChildProcess>(
        fulfil::test::built_program("sync/fulfil-cloudsim"),
        std::vector<std::string>{"--enrolment-code", "C1", "--config-signing-key",
                                 signing_key_file});
    const std::regex address("127\\.0\\.0\\.1:(\\d+)\\n");
    std::smatch m;
    const std::string text = poll_until(
        scaled(10s), [&] { return process->stderr_text(); },
        [&](const std::string& t) { return std::regex_search(t, m, address); });
    REQUIRE_MESSAGE(std::regex_search(text, m, address), text);
    port = std::stoi(m[1]);
  }

  void push(const json& document) {
    auto r = fulfil::test::http_request(
        port, "POST", std::string("/admin/stores/") + kStore + "/config", document.dump());
    REQUIRE(r.has_value());
    REQUIRE_MESSAGE(r->status == 201, r->body);
  }
  void command(const std::string& type, const json& payload) {
    auto r = fulfil::test::http_request(port, "POST",
                                        std::string("/admin/stores/") + kStore + "/commands",
                                        json{{"type", type}, {"payload", payload}}.dump());
    REQUIRE(r.has_value());
    REQUIRE_MESSAGE(r->status == 201, r->body);
  }
  json config_events() {
    auto r = fulfil::test::http_get(port, std::string("/admin/stores/") + kStore + "/events");
    REQUIRE(r.has_value());
    json out = json::array();
    const json body = json::parse(r->body);
    for (const auto& e : body["events"])
      if (e["type"].get<std::string>().starts_with("config.")) out.push_back(e);
    return out;
  }
  // Waits for the n-th config.* event (1-based) from `d` and returns it.
  json wait_for_event(std::size_t n, const Daemon& d) {
    auto events = poll_until(
        scaled(30s), [&] { return config_events(); }, [&](const json& e) { return e.size() >= n; });
    REQUIRE_MESSAGE(events.size() >= n, "config events so far: " << events.dump() << "\nfulfild:\n"
                                                                 << d.child->stderr_text());
    return events[n - 1];
  }
  json last_heartbeat() {
    auto r = fulfil::test::http_get(port, std::string("/admin/stores/") + kStore + "/stats");
    REQUIRE(r.has_value());
    return json::parse(r->body)["last_heartbeat"];
  }
};

struct Brand {
  fulfil::config::SigningKey key = fulfil::config::generate_signing_key();
  std::string key_file;
  explicit Brand(const std::string& dir) : key_file(dir + "/brand.key") {
    fulfil::test::write_file(key_file, key.private_key + "\n");
  }
};

json config_document(std::int64_t version, json settings) {
  return {{"version", version}, {"store_id", kStore}, {"settings", std::move(settings)}};
}

std::string daemon_config(const Cloud& cloud, const std::string& public_key, int deadline_s) {
  return json{{"store", {{"id", kStore}}},
              {"sync",
               {{"cloud_url", "http://127.0.0.1:" + std::to_string(cloud.port)},
                {"enrolment_code", "C1"},
                {"feed_wait_s", 1},
                {"backoff_initial_ms", 100},
                {"backoff_max_ms", 1000}}},
              {"remote_config",
               {{"public_keys", json::array({public_key})}, {"health_deadline_s", deadline_s}}}}
      .dump();
}

json effective(const Daemon& d) {
  return fulfil::test::fulfilctl_json(d, {"config", "show"})["effective"];
}

}  // namespace

TEST_CASE("remote configurations: applied, refused for every reason, rolled back when unhealthy") {
  fulfil::test::TempDir dir;
  Brand brand(dir.path());
  Cloud cloud(brand.key_file);
  const std::string config = dir.path() + "/fulfild.json";
  fulfil::test::write_file(
      config, daemon_config(cloud, brand.key.public_key, 3 * fulfil::test::slowdown()));
  Daemon d(config, dir.path() + "/state");

  // 1. A good one: applied, reported, in effect, in the heartbeat.
  cloud.push(config_document(1, {{"orders",
                                  {{"box_types", json::array({"remote-box"})},
                                   {"reject_reasons", {"no_stock", "closed_today"}}}},
                                 {"log", {{"level", "debug"}}}}));
  json e = cloud.wait_for_event(1, d);
  CHECK(e["type"] == "config.applied");
  CHECK(e["payload"]["version"] == 1);
  CHECK(e["payload"]["previous_version"] == 0);
  CHECK(effective(d)["orders"]["box_types"][0] == "remote-box");
  CHECK(effective(d)["orders"]["reject_reasons"] == json({"no_stock", "closed_today"}));
  auto hb = poll_until(
      scaled(20s), [&] { return cloud.last_heartbeat(); },
      [](const json& h) { return h.is_object() && h.value("config_version", 0) == 1; });
  CHECK(hb.value("config_version", 0) == 1);
  // The router hears what the store takes in every heartbeat.
  CHECK(hb["capacity"]["taking_orders"].is_boolean());
  CHECK(hb["capacity"]["remaining_today"].is_null());

  // 2. Tampered: the signed bytes changed after signing.
  {
    auto payload = *fulfil::config::sign_desired_config(
        config_document(2, {{"orders", {{"box_types", json::array({"Tampered"})}}}}),
        brand.key.private_key, "k");
    auto body = *fulfil::config::base64_decode(payload["config"]);
    body.replace(body.find("Tampered"), 8, "Tampere!");
    payload["config"] = fulfil::config::base64_encode(body);
    cloud.command("config.desired", payload);
    e = cloud.wait_for_event(2, d);
    CHECK(e["type"] == "config.refused");
    CHECK(e["payload"]["code"] == "bad_signature");
  }
  // 3. Signed by a key this store does not trust.
  {
    const auto other = fulfil::config::generate_signing_key();
    cloud.command("config.desired",
                  *fulfil::config::sign_desired_config(
                      config_document(3, {{"orders", {{"box_types", json::array({"Intruder"})}}}}),
                      other.private_key, "intruder"));
    e = cloud.wait_for_event(3, d);
    CHECK(e["type"] == "config.refused");
    CHECK(e["payload"]["code"] == "bad_signature");
    CHECK(fulfil::test::contains(e["payload"]["reason"].get<std::string>(), "intruder"));
  }
  // 4. Replayed: version 1 again (validly signed).
  cloud.push(config_document(1, {{"orders", {{"box_types", json::array({"Replayed"})}}}}));
  e = cloud.wait_for_event(4, d);
  CHECK(e["type"] == "config.refused");
  CHECK(e["payload"]["code"] == "stale_version");
  // 5. Invalid value, and 6. a key only the local file may set.
  cloud.push(config_document(5, {{"orders", {{"expiry_sweep_s", -5}}}}));
  e = cloud.wait_for_event(5, d);
  CHECK(e["payload"]["code"] == "invalid");
  CHECK(fulfil::test::contains(e["payload"]["reason"].get<std::string>(), "orders.expiry_sweep_s"));
  cloud.push(config_document(6, {{"sync", {{"cloud_url", "https://evil.example"}}}}));
  e = cloud.wait_for_event(6, d);
  CHECK(e["payload"]["code"] == "local_only_key");
  CHECK(fulfil::test::contains(e["payload"]["reason"].get<std::string>(), "sync.cloud_url"));
  for (int n = 2; n <= 6; ++n)
    CHECK(cloud.config_events()[n - 1]["payload"]["running_version"] == 1);
  // Nothing refused changed anything.
  CHECK(effective(d)["orders"]["box_types"][0] == "remote-box");

  // 7. Applies, but its printer cannot be reached: rolled back after the deadline.
  fulfil::test::LoopbackPort nobody;  // bound, never listening: connections are refused
  const int dead = nobody.port();
  cloud.push(config_document(7, {{"orders", {{"box_types", json::array({"With Dead Printer"})}}},
                                 {"printers",
                                  {{{"id", "desk-zebra"},
                                    {"kind", "raw_tcp"},
                                    {"host", "127.0.0.1"},
                                    {"port", dead},
                                    {"timeout_ms", 500}}}}}));
  e = cloud.wait_for_event(7, d);
  CHECK(e["type"] == "config.rolled_back");
  CHECK(e["payload"]["version"] == 7);
  CHECK(e["payload"]["restored_version"] == 1);
  CHECK(fulfil::test::contains(e["payload"]["failed_checks"].dump(), "desk-zebra"));
  CHECK(effective(d)["orders"]["box_types"][0] == "remote-box");
  CHECK(effective(d)["printers"].dump().find("desk-zebra") == std::string::npos);

  // The history, as brand IT's support would read it on the box.
  const json history = fulfil::test::fulfilctl_json(d, {"config", "history"});
  std::map<std::int64_t, std::string> states;  // newest first: "refused active" for 1
  for (const auto& row : history["configs"])
    states[row["version"]] += row["state"].get<std::string>() + " ";
  CHECK(states[1] == "refused active ");
  CHECK(states[7] == "rolled_back ");
  CHECK(states[5] == "refused ");

  // A restart keeps version 1 in effect.
  d.stop(SIGTERM);
  Daemon again(config, dir.path() + "/state");
  CHECK(effective(again)["orders"]["box_types"][0] == "remote-box");
  again.stop(SIGTERM);
}

TEST_CASE("a trial the agent was killed during is rolled back at the next start") {
  fulfil::test::TempDir dir;
  Brand brand(dir.path());
  Cloud cloud(brand.key_file);
  const std::string config = dir.path() + "/fulfild.json";
  // A long deadline: the trial is still running when the agent is killed.
  fulfil::test::write_file(config, daemon_config(cloud, brand.key.public_key, 600));
  auto d = std::make_unique<Daemon>(config, dir.path() + "/state");
  fulfil::test::LoopbackPort gone;  // bound, never listening
  cloud.push(config_document(4, {{"orders", {{"box_types", json::array({"Never Healthy"})}}},
                                 {"printers",
                                  {{{"id", "gone"},
                                    {"kind", "raw_tcp"},
                                    {"host", "127.0.0.1"},
                                    {"port", gone.port()},
                                    {"timeout_ms", 500}}}}}));
  const json on_trial = poll_until(
      scaled(20s),
      [&] {
        return fulfil::test::fulfilctl_json(*d, {"config", "show"});
      },
      [](const json& c) { return c["rollout"].value("trying_version", 0) == 4; });
  REQUIRE_MESSAGE(on_trial["rollout"].value("trying_version", 0) == 4, on_trial.dump());
  CHECK(on_trial["effective"]["orders"]["box_types"][0] == "Never Healthy");
  d->stop(SIGKILL);
  d.reset();

  Daemon again(config, dir.path() + "/state");
  const json e = cloud.wait_for_event(1, again);
  CHECK(e["type"] == "config.rolled_back");
  CHECK(e["payload"]["version"] == 4);
  CHECK(e["payload"]["failed_checks"] == json::array({"restart"}));
  CHECK(effective(again)["orders"]["box_types"][0] != "Never Healthy");
  // The same version is not tried again; a newer one is.
  cloud.push(config_document(4, {{"orders", {{"box_types", json::array({"Again"})}}}}));
  CHECK(cloud.wait_for_event(2, again)["payload"]["code"] == "stale_version");
  cloud.push(config_document(5, {{"orders", {{"box_types", json::array({"Fixed"})}}}}));
  CHECK(cloud.wait_for_event(3, again)["type"] == "config.applied");
  CHECK(effective(again)["orders"]["box_types"][0] == "Fixed");
  again.stop(SIGTERM);
}
