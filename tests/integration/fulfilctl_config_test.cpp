// `fulfilctl config ...` as brand IT and store IT use it: validating a local file and a
// remote document (local-only keys, invalid values, cross-key checks), a key pair made,
// a document signed and its signature verified (and a tampered one refused), all without
// an agent; then `config show` and `config history` against a real fulfild.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/remote_config.hpp"
#include "daemon_harness.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::contains;
using fulfil::test::Daemon;
using fulfil::test::Finished;
using fulfil::test::write_file;
using json = nlohmann::json;

namespace {

// fulfilctl with no agent behind its socket: these commands must not need one.
Finished ctl(const fulfil::test::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--socket", dir.path() + "/no-agent.sock"});
  fulfil::test::ChildProcess p(fulfil::test::built_program("agent/fulfilctl"), args);
  auto rc = p.wait(fulfil::test::scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), "fulfilctl did not exit\n" << p.stderr_text());
  return {*rc, p.stdout_text(), p.stderr_text()};
}

std::string file(const fulfil::test::TempDir& dir, const std::string& name, const json& content) {
  const std::string path = dir.path() + "/" + name;
  write_file(path, content.is_string() ? content.get<std::string>() : content.dump(2));
  return path;
}

bool is_key(const json& text) {
  if (!text.is_string()) return false;
  auto raw = fulfil::config::base64_decode(text.get<std::string>());
  return raw && raw->size() == 32;
}

// The value after `name` on its line of keygen's human output.
std::string field(const std::string& out, const std::string& name) {
  const auto at = out.find(name + "  ");
  REQUIRE_MESSAGE(at != std::string::npos, name << " missing in:\n" << out);
  const auto begin = out.find_first_not_of(' ', at + name.size());
  return out.substr(begin, out.find('\n', begin) - begin);
}

// An agent that answers one request on a Unix socket with `body`, for what a real one
// only shows with a cloud behind it (a trial in progress, a history of decisions).
struct CannedAgent {
  std::string path;
  int fd = -1;
  std::thread thread;
  std::string request;

  CannedAgent(const std::string& socket_path, const json& body) : path(socket_path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    thread = std::thread([this, text = body.dump()] {
      const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      char buf[4096];
      for (ssize_t n;
           request.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;)
        request.append(buf, static_cast<std::size_t>(n));
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Content-Length: " +
          std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
      for (std::size_t sent = 0; sent < reply.size();) {
        const ssize_t n = ::write(c, reply.data() + sent, reply.size() - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      ::close(c);
    });
  }
  // The request it answered (once fulfilctl has had its answer).
  const std::string& received() {
    if (thread.joinable()) thread.join();
    return request;
  }
  ~CannedAgent() {
    ::shutdown(fd, SHUT_RDWR);  // an accept() nobody connected to returns
    if (thread.joinable()) thread.join();
    ::close(fd);
    ::unlink(path.c_str());
  }
};

}  // namespace

TEST_CASE("fulfilctl config validate: a local configuration file") {
  fulfil::test::TempDir dir;
  const auto good = file(dir, "good.json", {{"store", {{"id", "store-0042"}, {"name", "Lab"}}}});
  auto r = ctl(dir, {"config", "validate", good});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(contains(r.out, good + ": valid"));

  const auto bad =
      file(dir, "bad.json", {{"sync", {{"batch_size", 0}}}, {"log", {{"level", "chatty"}}}});
  r = ctl(dir, {"config", "validate", bad});
  CHECK(r.rc == 1);
  // Every problem, each naming its key and value.
  CHECK_MESSAGE(contains(r.err, "'sync.batch_size': value 0"), r.err);
  CHECK_MESSAGE(contains(r.err, "'log.level': value \"chatty\""), r.err);
  CHECK(contains(r.err, "2 problems"));
  r = ctl(dir, {"config", "validate", bad, "--json"});
  CHECK(r.rc == 1);
  const json report = json::parse(r.out);
  CHECK(report["valid"] == false);
  CHECK(report["problems"].size() == 2);

  r = ctl(dir, {"config", "validate", dir.path() + "/missing.json"});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "missing.json"));
  CHECK(ctl(dir, {"config", "validate"}).rc == 2);
  CHECK(ctl(dir, {"config", "validate", good, "--key", "x"}).rc == 2);  // --key needs --remote
  CHECK(ctl(dir, {"config", "frobnicate"}).rc == 2);
  CHECK(ctl(dir, {"config"}).rc == 2);
}

TEST_CASE("fulfilctl config validate --remote: what the agent would refuse") {
  fulfil::test::TempDir dir;
  const auto good = file(
      dir, "good.json",
      {{"version", 7}, {"settings", {{"sync", {{"batch_size", 50}}}, {"store", {{"name", "X"}}}}}});
  auto r = ctl(dir, {"config", "validate", "--remote", good});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(contains(r.out, "version 7"));
  CHECK(contains(r.out, "store.name, sync.batch_size"));

  // Only the local file may say where the cloud is.
  const auto local_only = file(
      dir, "local-only.json",
      {{"version", 8}, {"settings", {{"sync", {{"cloud_url", "https://elsewhere.example"}}}}}});
  r = ctl(dir, {"config", "validate", "--remote", local_only});
  CHECK(r.rc == 1);
  CHECK_MESSAGE(contains(r.err, "'sync.cloud_url': value \"https://elsewhere.example\""), r.err);
  CHECK(contains(r.err, "only in the local file"));

  const auto invalid = file(dir, "invalid.json",
                            {{"version", 9}, {"settings", {{"sync", {{"batch_size", 99999}}}}}});
  r = ctl(dir, {"config", "validate", "--remote", invalid});
  CHECK(r.rc == 1);
  CHECK_MESSAGE(contains(r.err, "'sync.batch_size': value 99999"), r.err);

  // Valid key by key, but not together: it must also load over the defaults.
  const auto crossed =
      file(dir, "crossed.json",
           {{"version", 10},
            {"settings", {{"sync", {{"backoff_initial_ms", 5000}, {"backoff_max_ms", 1000}}}}}});
  r = ctl(dir, {"config", "validate", "--remote", crossed});
  CHECK(r.rc == 1);
  CHECK_MESSAGE(contains(r.err, "sync.backoff_max_ms"), r.err);

  // A local file is not a remote document.
  const auto local = file(dir, "local.json", {{"store", {{"name", "X"}}}});
  r = ctl(dir, {"config", "validate", "--remote", local});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "\"version\""));
  CHECK(contains(r.err, "\"settings\""));
}

TEST_CASE("fulfilctl config keygen, sign, and validate --remote --key") {
  fulfil::test::TempDir dir;
  auto keygen = ctl(dir, {"config", "keygen", "--json"});
  REQUIRE_MESSAGE(keygen.rc == 0, keygen.err);
  const json pair = json::parse(keygen.out);
  CHECK(is_key(pair["private_key"]));
  CHECK(is_key(pair["public_key"]));
  CHECK(pair["private_key"] != pair["public_key"]);

  // The human output is two base64 keys and where the public one goes; saved as it is,
  // it is a key file for `config sign`.
  keygen = ctl(dir, {"config", "keygen"});
  REQUIRE(keygen.rc == 0);
  const std::string private_key = field(keygen.out, "private_key");
  const std::string public_key = field(keygen.out, "public_key");
  CHECK(is_key(private_key));
  CHECK(is_key(public_key));
  CHECK(fulfil::config::public_key_of(private_key).value() == public_key);
  CHECK(contains(keygen.out, "remote_config.public_keys"));
  const auto key_file = file(dir, "brand.key", keygen.out);

  const auto document =
      file(dir, "v12.json", {{"version", 12}, {"settings", {{"sync", {{"batch_size", 20}}}}}});
  auto signed_ = ctl(dir, {"config", "sign", "--key", key_file, "--key-id", "lab-1", document});
  REQUIRE_MESSAGE(signed_.rc == 0, signed_.err);
  const json payload = json::parse(signed_.out);
  CHECK(payload["key_id"] == "lab-1");
  // What the agent itself accepts.
  auto verified = fulfil::config::verify_desired_config(payload, {public_key});
  REQUIRE_MESSAGE(verified.has_value(), (verified ? "" : verified.error().message));
  CHECK(verified->version == 12);
  const auto payload_file = file(dir, "v12.signed.json", payload);

  auto r = ctl(dir, {"config", "validate", "--remote", "--key", public_key, payload_file});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(contains(r.out, "signature verifies"));
  r = ctl(dir, {"config", "validate", "--remote", payload_file, "--json"});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(json::parse(r.out)["signature"] == "not checked");
  CHECK(json::parse(r.out)["version"] == 12);

  // One bit of the signature flipped.
  json tampered = payload;
  auto signature = fulfil::config::base64_decode(payload["signature"].get<std::string>()).value();
  signature[10] = static_cast<char>(signature[10] ^ 1);
  tampered["signature"] = fulfil::config::base64_encode(signature);
  r = ctl(dir, {"config", "validate", "--remote", "--key", public_key,
                file(dir, "tampered-signature.json", tampered)});
  CHECK(r.rc == 1);
  CHECK_MESSAGE(contains(r.err, "bad_signature"), r.err);
  // The document changed under the signature.
  tampered = payload;
  tampered["config"] = fulfil::config::base64_encode(
      json{{"version", 12}, {"settings", {{"sync", {{"batch_size", 21}}}}}}.dump());
  r = ctl(dir, {"config", "validate", "--remote", "--key", public_key,
                file(dir, "tampered-document.json", tampered)});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "bad_signature"));
  // Another brand's key.
  r = ctl(dir, {"config", "validate", "--remote", "--key",
                fulfil::config::generate_signing_key().public_key, payload_file});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "bad_signature"));

  // Documents that are not remote configurations are not signed.
  r = ctl(dir, {"config", "sign", "--key", key_file,
                file(dir, "no-version.json", {{"settings", json::object()}})});
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK_MESSAGE(contains(r.err, "\"version\", a positive integer"), r.err);
  r = ctl(dir,
          {"config", "sign", "--key", key_file, file(dir, "no-settings.json", {{"version", 3}})});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "\"settings\""));
  r = ctl(dir, {"config", "sign", "--key", key_file,
                file(dir, "zero.json", {{"version", 0}, {"settings", json::object()}})});
  CHECK(r.rc == 1);
  CHECK(ctl(dir, {"config", "sign", document}).rc == 2);  // --key is required
}

TEST_CASE("fulfilctl config show and history against a running fulfild") {
  fulfil::test::TempDir dir;
  const auto config = file(dir, "fulfild.json", {{"printing", {{"keep_jobs_days", 9}}}});
  Daemon d(config, dir.path());
  const json shown = fulfil::test::fulfilctl_json(d, {"config", "show"});
  REQUIRE_MESSAGE(shown.contains("effective"),
                  "GET /api/v1/config answered without \"effective\" (an older route registered "
                  "first?):\n"
                      << shown.dump(2));
  CHECK(shown["remote_version"] == 0);
  CHECK(shown["rollout"]["running_version"] == 0);
  CHECK(shown["effective"]["printing"]["keep_jobs_days"] == 9);
  auto r = fulfil::test::run_fulfilctl(d, {"config", "show"});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(contains(r.out, "the local file only"));
  CHECK(contains(r.out, "\"keep_jobs_days\": 9"));

  CHECK(fulfil::test::fulfilctl_json(d, {"config", "history", "--limit", "5"})["configs"] ==
        json::array());
  r = fulfil::test::run_fulfilctl(d, {"config", "history"});
  CHECK_MESSAGE(r.rc == 0, r.err);
  CHECK(contains(r.out, "No remote configuration has been received"));
  d.stop(SIGTERM);
}

TEST_CASE("fulfilctl config show and history: a trial in progress, decisions in a table") {
  fulfil::test::TempDir dir;
  const std::string socket = dir.path() + "/api.sock";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", socket});
    fulfil::test::ChildProcess p(fulfil::test::built_program("agent/fulfilctl"), args);
    auto rc = p.wait(fulfil::test::scaled(10s));
    REQUIRE_MESSAGE(rc.has_value(), "fulfilctl did not exit\n" << p.stderr_text());
    return Finished{*rc, p.stdout_text(), p.stderr_text()};
  };
  {
    CannedAgent agent(socket, {{"remote_version", 4},
                               {"remote_settings", {{"sync", {{"batch_size", 20}}}}},
                               {"rollout",
                                {{"running_version", 4},
                                 {"trying_version", 5},
                                 {"deadline_in_ms", 41200},
                                 {"problems", {"printer desk1-zebra: offline"}}}},
                               {"effective", {{"sync", {{"batch_size", 20}}}}}});
    const auto r = run({"config", "show"});
    CHECK_MESSAGE(r.rc == 0, r.err);
    CHECK_MESSAGE(contains(r.out, "remote configuration version 4"), r.out);
    CHECK(contains(r.out, "version 5"));
    CHECK(contains(r.out, "within 42 s"));
    CHECK(contains(r.out, "printer desk1-zebra: offline"));
    CHECK(contains(r.out, "\"batch_size\": 20"));
    CHECK(contains(agent.received(), "GET /api/v1/config HTTP/1.1"));
  }
  {
    CannedAgent agent(
        socket, {{"configs",
                  {{{"id", 3},
                    {"version", 5},
                    {"state", "rolled_back"},
                    {"reason", "not healthy 60 s after the change: printer desk1-zebra: offline"},
                    {"key_id", "brand-2026"},
                    {"command_id", "C-9"},
                    {"received_at", 1790000000000},
                    {"decided_at", 1790000060000}},
                   {{"id", 2},
                    {"version", 0},
                    {"state", "refused"},
                    {"reason", "malformed: the payload is not a JSON object"},
                    {"key_id", ""},
                    {"command_id", "C-8"},
                    {"received_at", 1790000000000},
                    {"decided_at", 1790000000000}}}}});
    const auto r = run({"config", "history", "--limit", "2"});
    CHECK_MESSAGE(r.rc == 0, r.err);
    CHECK(contains(agent.received(), "GET /api/v1/config/history?limit=2 HTTP/1.1"));
    CHECK_MESSAGE(contains(r.out, "VERSION  STATE"), r.out);
    CHECK(contains(r.out, "rolled_back"));
    CHECK(contains(r.out, "brand-2026"));
    CHECK(contains(r.out, "printer desk1-zebra: offline"));
    CHECK(contains(r.out, "malformed: the payload is not a JSON object"));
  }
}
