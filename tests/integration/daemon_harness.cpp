#include "daemon_harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "test_support.hpp"

namespace fulfil::test {

using namespace std::chrono_literals;
using nlohmann::json;

std::chrono::milliseconds scaled(std::chrono::milliseconds t) {
  return t * slowdown();
}

std::chrono::milliseconds ready_timeout() {
  return emulated() ? 60s : 20s;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

json health(int port) {
  auto r = http_get(port, "/health");
  REQUIRE_MESSAGE(r.has_value(), "GET /health on port " << port << " got no HTTP response");
  REQUIRE_MESSAGE(r->status == 200, r->headers << "\n" << r->body);
  std::string headers = r->headers;
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  CHECK_MESSAGE(contains(headers, "content-type: application/json"), r->headers);
  auto body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), "not a JSON object: " << r->body);
  return body;
}

Daemon::Daemon(const std::string& config, const std::string& state_dir)
    : Daemon({"--config", config}, {}, state_dir) {}

Daemon::Daemon(std::vector<std::string> extra, std::map<std::string, std::string> env,
               std::string state_dir) {
  if (state_dir.empty()) {
    own_state = std::make_unique<TempDir>();
    state_dir = own_state->path();
  }
  state = state_dir;
  std::vector<std::string> args = {"--demo", "--listen", "127.0.0.1:0", "--state-dir", state};
  args.insert(args.end(), extra.begin(), extra.end());
  env["NOTIFY_SOCKET"] = notify.path();
  child = std::make_unique<ChildProcess>(built_program("agent/fulfild"), args, env);
  auto msg = notify.wait_for("READY=1", ready_timeout());
  REQUIRE_MESSAGE(msg.has_value(), "no READY=1 within " << ready_timeout().count() << " ms\n"
                                                        << child->stderr_text());
  ready = *msg;
  auto notified = notified_port(ready);
  auto logged = served_port(child->stderr_text());
  REQUIRE_MESSAGE(notified.has_value(), ready);
  REQUIRE_MESSAGE(logged.has_value(), child->stderr_text());
  CHECK(*notified == *logged);
  port = *notified;
}

void Daemon::stop(int signo) {
  child->signal(signo);
  auto rc = child->wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), "fulfild still running after signal " << signo << "\n"
                                                                        << child->stderr_text());
  if (signo == SIGTERM) CHECK_MESSAGE(*rc == 0, child->stderr_text());
}

int Daemon::stop_promptly(int signo) {
  const auto limit = scaled(2s);
  if (emulated())
    MESSAGE("under FULFIL_EMULATOR the stop limit is " << limit.count() << " ms, not 2000 ms");
  const auto t0 = std::chrono::steady_clock::now();
  child->signal(signo);
  CHECK_MESSAGE(notify.wait_for("STOPPING=1", limit).has_value(), notify.received());
  auto rc = child->wait(limit + 1s);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_MESSAGE(rc.has_value(), "fulfild still running after signal " << signo << "\n"
                                                                        << child->stderr_text());
  CHECK_MESSAGE(
      took < limit, "stopping took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms");
  return *rc;
}

Finished run_fulfilctl(const Daemon& d, std::vector<std::string> args) {
  args.insert(args.begin(), {"--socket", d.socket()});
  ChildProcess p(built_program("agent/fulfilctl"), args);
  auto rc = p.wait(scaled(10s));
  REQUIRE_MESSAGE(rc.has_value(), "fulfilctl did not exit\n" << p.stderr_text());
  return {*rc, p.stdout_text(), p.stderr_text()};
}

json fulfilctl_json(const Daemon& d, std::vector<std::string> args) {
  args.push_back("--json");
  const auto r = run_fulfilctl(d, args);
  REQUIRE_MESSAGE(r.rc == 0, "fulfilctl exited " << r.rc << ": " << r.err);
  auto body = json::parse(r.out, nullptr, false);
  REQUIRE_MESSAGE(!body.is_discarded(), "not JSON: " << r.out);
  return body;
}

std::string paired_token(const Daemon& d, const std::string& role) {
  const auto code = run_fulfilctl(d, {"pair", "--role", role, "--json"});
  REQUIRE_MESSAGE(code.rc == 0, code.err);
  const auto paired = http_request(d.port, "POST", "/api/v1/pair",
                                   json{{"code", json::parse(code.out)["code"]}}.dump());
  REQUIRE(paired.has_value());
  REQUIRE_MESSAGE(paired->status == 201, paired->body);
  return json::parse(paired->body)["token"];
}

}  // namespace fulfil::test
