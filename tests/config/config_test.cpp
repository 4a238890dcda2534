// Configuration: defaults < file < flags, and every refusal names the key, the value and
// what was expected.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "child_process.hpp"
#include "config/json_input.hpp"
#include "config/log.hpp"
#include "config/remote_config.hpp"
#include "config/settings.hpp"
#include "test_support.hpp"

using namespace fulfil::config;

namespace {

std::string write(const fulfil::test::TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/fulfild.json";
  std::ofstream(path) << text;
  return path;
}

ConfigErrors errors_of(const std::string& json_text) {
  fulfil::test::TempDir dir;
  auto r = load({write(dir, json_text), {}});
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

bool mentions(const ConfigErrors& errors, const std::string& key, const std::string& text) {
  for (const auto& e : errors)
    if (e.key == key && e.describe().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the defaults are valid and every schema key is in the reference") {
  auto s = load({});
  REQUIRE(s.has_value());
  CHECK(s->store.id == "store-0001");
  CHECK(s->storage.state_dir == "/var/lib/fulfild");
  CHECK(s->api.listen_host == "127.0.0.1");
  CHECK(s->api.listen_port == 8080);
  CHECK(s->sync.cloud_url.empty());
  const std::string ref = reference_markdown();
  for (const char* key :
       {"store.id", "storage.synchronous", "log.level", "api.listen", "orders.reject_reasons",
        "inventory.allow_negative_available", "sync.cloud_url", "sync.batch_size"}) {
    if (std::string(key) == "storage.synchronous") continue;  // deliberately not a setting
    CHECK_MESSAGE(ref.find(std::string("`") + key + "`") != std::string::npos, key);
  }
}

TEST_CASE("each kind of bad value is refused with key, value and expectation") {
  CHECK(mentions(errors_of(R"({"orders": {"expiry_sweep_s": 0}})"), "orders.expiry_sweep_s",
                 "value 0 is refused; expected an integer from 1 to 3600"));
  CHECK(mentions(errors_of(R"({"orders": {"expiry_sweep_s": 1.5}})"), "orders.expiry_sweep_s",
                 "expected an integer"));
  CHECK(mentions(errors_of(R"({"log": {"level": "verbose"}})"), "log.level",
                 R"(expected one of "debug", "info", "warn", "error")"));
  CHECK(mentions(errors_of(R"({"store": {"id": "has space"}})"), "store.id", "matching"));
  CHECK(mentions(errors_of(R"({"api": {"listen": "x"}})"), "api.listen", "\"x\""));
  CHECK(mentions(errors_of(R"({"api": {"listen": "127.0.0.1:70000"}})"), "api.listen",
                 "port from 0 to 65535"));
  CHECK(mentions(errors_of(R"({"orders": {"reject_reasons": ["ok", "Bad Reason"]}})"),
                 "orders.reject_reasons[1]", "\"Bad Reason\""));
  CHECK(mentions(errors_of(R"({"orders": {"reject_reasons": ["a", "a"]}})"),
                 "orders.reject_reasons", "without duplicates"));
  CHECK(mentions(
      errors_of(R"({"orders": {"reason_effects": [{"reason": "lost", "stock": "count_zero"}]}})"),
      "orders.reason_effects[0].reason", "one of orders.reject_reasons"));
  CHECK(
      mentions(errors_of(R"({"orders": {"reason_effects": [{"reason": "other", "stock": "x"}]}})"),
               "orders.reason_effects[0].stock", R"(one of "none", "count_zero")"));
  CHECK(mentions(errors_of(R"({"orders": {"reason_effects": [{"reason": "other",
      "stock": "none"}, {"reason": "other", "stock": "unsellable"}]}})"),
                 "orders.reason_effects[1].reason", "a reason no other entry has"));
  CHECK(mentions(errors_of(R"({"inventory": {"allow_negative_available": "yes"}})"),
                 "inventory.allow_negative_available", "expected a boolean"));
  CHECK(mentions(errors_of(R"({"sync": {"backoff_initial_ms": 5000, "backoff_max_ms": 1000}})"),
                 "sync.backoff_max_ms", "at least sync.backoff_initial_ms"));
}

TEST_CASE("unknown keys are refused and the known ones listed") {
  auto errors = errors_of(R"({"colour": 1, "orders": {"expiry": 5}})");
  CHECK(mentions(errors, "colour", "no such key"));
  CHECK(mentions(errors, "orders.expiry",
                 "known keys here: accept_warn_minutes, box_types, carriers"));
  CHECK(errors.size() == 2);  // all problems at once, not just the first
}

TEST_CASE("unreadable and malformed files are refused") {
  auto missing = load({std::string("/nonexistent/fulfild.json"), {}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().front().describe().find("/nonexistent/fulfild.json") != std::string::npos);
  auto bad = errors_of("{\"store\": {\"id\": }");
  CHECK(bad.front().describe().find("valid JSON") != std::string::npos);
  CHECK(bad.front().describe().find("parse error") != std::string::npos);
}

TEST_CASE("layering: file over defaults, --set over the file") {
  fulfil::test::TempDir dir;
  const std::string path =
      write(dir, R"({"store": {"id": "from-file", "name": "File"}, "log": {"level": "warn"}})");
  auto s = load({path, {"store.id=shop-7", "orders.reject_reasons=[\"closed\"]"}});
  REQUIRE(s.has_value());
  CHECK(s->store.id == "shop-7");
  CHECK(s->store.name == "File");
  CHECK(s->log.level == fulfil::log::Level::warn);
  CHECK(s->orders.reject_reasons == std::vector<std::string>{"closed"});
  CHECK(s->orders.expiry_sweep_s == 15);

  auto no_eq = load({std::nullopt, {"store.id"}});
  REQUIRE_FALSE(no_eq.has_value());
  CHECK(no_eq.error().front().describe().find("KEY=VALUE") != std::string::npos);
  auto unknown = load({std::nullopt, {"store.colour=red"}});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().front().key == "store.colour");
  CHECK(unknown.error().front().source.find("--set") != std::string::npos);
  // File and flag problems are all reported together.
  auto both = load({path, {"log.level=loud", "orders.expiry_sweep_s=0", "store.id=ok"}});
  REQUIRE_FALSE(both.has_value());
  CHECK(both.error().size() == 2);
}

TEST_CASE("IPv6 listen addresses and trailing slashes on the cloud URL") {
  auto s =
      load({std::nullopt, {"api.listen=[::1]:9090", "sync.cloud_url=https://cloud.example.com/"}});
  REQUIRE(s.has_value());
  CHECK(s->api.listen_host == "::1");
  CHECK(s->api.listen_port == 9090);
  CHECK(s->sync.cloud_url == "https://cloud.example.com");
  CHECK_FALSE(load({std::nullopt, {"sync.cloud_url=ftp://x"}}).has_value());
}

TEST_CASE("log lines quote and escape values so one event stays one line") {
  using fulfil::log::Level;
  const std::string line = fulfil::log::format(
      Level::warn, "orders", "bad input",
      {{"name", "Müller \"the\" =x"}, {"evil", "a\nlevel=error msg=forged"}, {"n", 42}});
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find(R"(name="Müller \"the\" =x")") != std::string::npos);
  CHECK(line.find(R"(evil="a\nlevel=error msg=forged")") != std::string::npos);
  CHECK(line.find("n=42") != std::string::npos);
  CHECK(line.rfind("level=warn component=orders msg=\"bad input\"", 0) == 0);
  Level l = Level::info;
  CHECK(fulfil::log::parse_level("error", l));
  CHECK(l == Level::error);
  CHECK_FALSE(fulfil::log::parse_level("loud", l));
}

TEST_CASE("layers: defaults < file < remote configuration < command line") {
  fulfil::test::TempDir dir;
  const std::string path = write(
      dir, R"({"orders": {"box_types": ["file"], "carriers": ["DHL"]}, "log": {"level": "warn"}})");
  LoadRequest request{path, {"log.level=error"}};
  request.remote = {{"orders", {{"box_types", {"remote"}}}}, {"log", {{"level", "debug"}}}};
  request.remote_source = "remote config v3";
  auto s = load(request);
  REQUIRE(s.has_value());
  CHECK(s->orders.box_types == std::vector<std::string>{"remote"});  // remote over the file
  CHECK(s->orders.carriers == std::vector<std::string>{"DHL"});  // the file where remote is silent
  CHECK(s->log.level == fulfil::log::Level::error);              // the command line last

  request.remote = {{"orders", {{"expiry_sweep_s", 0}}}, {"storage", {{"state_dir", "/x"}}}};
  auto bad = load(request);
  REQUIRE_FALSE(bad.has_value());
  CHECK(mentions(bad.error(), "orders.expiry_sweep_s", "remote config v3"));
  CHECK(mentions(bad.error(), "storage", "only in the local file"));
}

TEST_CASE("which keys a remote configuration may not set, and why") {
  const auto found = local_only_keys({{"sync", {{"cloud_url", "https://x"}, {"batch_size", 10}}},
                                      {"remote_config", {{"public_keys", nlohmann::json::array()}}},
                                      {"store", {{"id", "other"}, {"name", "fine"}}},
                                      {"api", {{"listen", "0.0.0.0:80"}}},
                                      {"printers", nlohmann::json::array()}},
                                     "remote");
  std::set<std::string> keys;
  for (const auto& e : found) keys.insert(e.key);
  CHECK(keys == std::set<std::string>{"sync.cloud_url", "remote_config", "store.id", "api"});
  CHECK(local_only_reason("sync.verify_tls").find("cloud") != std::string::npos);
  CHECK(local_only_reason("api.listen") != "");
  CHECK(local_only_reason("orders.box_types") == "");
}

TEST_CASE("the keys that take effect at restart come from the schema, and are local-only") {
  const nlohmann::json running = fulfil::config::defaults();
  nlohmann::json next = running;
  CHECK(fulfil::config::changed_restart_keys(running, next).empty());
  next["store"]["id"] = "store-0002";
  next["store"]["name"] = "Renamed";  // takes effect at once
  next["api"]["listen_port"] = 9090;
  next["sync"]["cloud_url"] = "https://cloud.example";
  next["sync"]["batch_size"] = 7;  // takes effect at once
  const auto held = fulfil::config::changed_restart_keys(running, next);
  CHECK(std::set<std::string>(held.begin(), held.end()) ==
        std::set<std::string>{"store.id", "api", "sync.cloud_url"});
  // A key that needs a restart cannot be set remotely: brand IT's configuration is applied
  // while running.
  for (const auto& key : held) {
    CAPTURE(key);
    CHECK_FALSE(fulfil::config::local_only_reason(key).empty());
  }
}

TEST_CASE("signed remote configurations: only the exact bytes a trusted key signed are read") {
  const SigningKey brand = generate_signing_key();
  const SigningKey other = generate_signing_key();
  CHECK(*public_key_of(brand.private_key) == brand.public_key);
  const nlohmann::json doc = {
      {"version", 4}, {"store_id", "store-9"}, {"settings", {{"orders", {{"box_types", {"S"}}}}}}};
  auto payload = sign_desired_config(doc, brand.private_key, "k1");
  REQUIRE(payload.has_value());

  auto ok = verify_desired_config(*payload, {other.public_key, brand.public_key});  // rotation
  REQUIRE(ok.has_value());
  CHECK(ok->version == 4);
  CHECK(ok->store_id == "store-9");
  CHECK(ok->key_id == "k1");
  CHECK(ok->settings == doc["settings"]);

  auto code_of = [](const nlohmann::json& p, const std::vector<std::string>& keys) {
    auto r = verify_desired_config(p, keys);
    REQUIRE_FALSE(r.has_value());
    return std::string(fulfil::config::refusal_code_name(r.error().code));
  };
  CHECK(code_of(*payload, {other.public_key}) == "bad_signature");
  CHECK(code_of(*payload, {}) == "no_trusted_keys");
  auto tampered = *payload;
  std::string body = *base64_decode(tampered["config"]);
  body[body.find('4')] = '5';  // version 4 -> 5
  tampered["config"] = base64_encode(body);
  CHECK(code_of(tampered, {brand.public_key}) == "bad_signature");
  auto bad_signature = *payload;
  bad_signature["signature"] = base64_encode(std::string(64, 'x'));
  CHECK(code_of(bad_signature, {brand.public_key}) == "bad_signature");
  CHECK(code_of({{"config", "%%%"}, {"signature", "AAAA"}}, {brand.public_key}) == "malformed");
  CHECK(code_of(nlohmann::json::array(), {brand.public_key}) == "malformed");
  CHECK(code_of({{"config", (*payload)["config"]}, {"signature", "AAAA"}}, {brand.public_key}) ==
        "malformed");  // not 64 bytes
  // Signed, but not a configuration document: refused, with what is missing.
  auto no_version =
      sign_desired_config({{"settings", nlohmann::json::object()}}, brand.private_key, "");
  REQUIRE(no_version.has_value());
  auto r = verify_desired_config(*no_version, {brand.public_key});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == fulfil::config::ConfigRefusalCode::malformed);
  CHECK(r.error().message.find("version") != std::string::npos);
  CHECK_FALSE(sign_desired_config(doc, "not a key", "").has_value());
}

// --- JSON from outside the process (config/json_input.hpp) ---------------------------------

TEST_CASE("parse_json: deep nesting, bad bytes and huge numbers are errors, never crashes") {
  using fulfil::parse_json;
  // 100,000 levels in 200 KB: parsed fine and then overflowed the stack when copied.
  const std::string deep =
      "{\"packages\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = parse_json(deep);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == "JSON nested deeper than 64 levels");
  // The limit itself: 64 containers open at once pass, 65 do not.
  CHECK(parse_json(std::string(64, '[') + std::string(64, ']')).has_value());
  CHECK_FALSE(parse_json(std::string(65, '[') + std::string(65, ']')).has_value());
  CHECK_FALSE(parse_json(std::string(32, '[') + "{\"a\":" + std::string(32, '[') + "1" +
                         std::string(32, ']') + "}" + std::string(32, ']'))
                  .has_value());
  // Invalid UTF-8 inside a string: an error whose message is itself valid, printable text.
  auto bad = parse_json("{\"code\":\"\xff\"}");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().find("\\xff") != std::string::npos);
  for (const unsigned char c : bad.error()) CHECK((c >= 0x20 && c < 0x7f));
  // A number out of range is the caller's error, not an exception.
  auto huge = parse_json("{\"quantity\":1e999}");
  REQUIRE_FALSE(huge.has_value());
  CHECK(huge.error().find("number overflow") != std::string::npos);
  CHECK_FALSE(parse_json("").has_value());
  CHECK_FALSE(parse_json("{\"a\":1} trailing").has_value());
  // Ordinary documents are untouched.
  auto ok = parse_json(R"({"a":[1,2,{"b":"Zoë"}],"c":null})");
  REQUIRE(ok.has_value());
  CHECK((*ok)["a"][2]["b"] == "Zoë");
}

TEST_CASE("configuration files and --set values nested too deep are refused, not crashed on") {
  fulfil::test::TempDir dir;
  const std::string deep = "{\"store\":" + std::string(50000, '[') + std::string(50000, ']') + "}";
  auto r = load({write(dir, deep), {}});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().front().describe().find("nested deeper than 64 levels") != std::string::npos);
  // A --set value that is not JSON is taken as text, whatever it holds.
  auto s = load({std::nullopt, {"store.name=" + std::string(1000, '[')}});
  REQUIRE_FALSE(s.has_value());  // 1000 characters: longer than store.name allows
  CHECK(s.error().front().key == "store.name");
}

TEST_CASE("an uncaught exception ends in one structured log line, then abort") {
  // A program of its own (fork is not safe under qemu-user): it installs the handler and
  // lets an exception reach std::terminate.
  fulfil::test::ChildProcess helper(fulfil::test::built_program("tests/config/terminate_helper"),
                                    {});
  const auto rc = helper.wait(std::chrono::seconds(20 * fulfil::test::slowdown()));
  REQUIRE(rc.has_value());
  CHECK(*rc == 128 + SIGABRT);
  // (qemu-user adds a line of its own about the guest's signal.)
  std::string text;
  std::istringstream lines(helper.stderr_text());
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("qemu: ", 0) != 0) text += line + "\n";
  CAPTURE(helper.stderr_text());
  CHECK(text.find("terminate called") == std::string::npos);
  CHECK(text.find("level=error component=fulfild msg=\"terminating: an exception escaped") !=
        std::string::npos);
  CHECK(text.find("exception=std::runtime_error") != std::string::npos);
  CHECK(text.find("what=\"boom \\\"quoted\\\"\\nsecond line\"") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}
