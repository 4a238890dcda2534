#pragma once
// The real fulfild and fulfilctl for integration tests: a daemon started on a state
// directory and waited for until READY=1, fulfilctl run against its socket, /health read
// over HTTP, and polling with a deadline. Every wait is bounded and scaled under qemu-user.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "test_support.hpp"

namespace fulfil::test {

std::chrono::milliseconds scaled(std::chrono::milliseconds t);
std::chrono::milliseconds ready_timeout();
bool contains(const std::string& text, const std::string& needle);
void write_file(const std::string& path, const std::string& text);
nlohmann::json health(int port);

// fulfild --demo on 127.0.0.1:0 with systemd's notification socket, waited for until
// READY=1. With a configuration file on a state directory (kept by the caller so a
// restart finds it): the printers of the file replace the demo's, and a sync.cloud_url in
// the file replaces the demo's own cloud. Or with more arguments and environment, on a
// state directory of its own unless one is given.
struct Daemon {
  std::unique_ptr<TempDir> own_state;
  std::string state;
  NotifySocket notify;
  std::unique_ptr<ChildProcess> child;
  std::string ready;  // the READY=1 datagram
  int port = 0;

  Daemon(const std::string& config, const std::string& state_dir);
  explicit Daemon(std::vector<std::string> extra = {}, std::map<std::string, std::string> env = {},
                  std::string state_dir = "");
  std::string socket() const { return state + "/api.sock"; }
  // Stops with `signo` (bounded, generously); a SIGTERM must end with exit code 0.
  void stop(int signo);
  // Stops with `signo` and returns the exit code; fails the test unless fulfild says
  // STOPPING=1 and is gone within 2 s (more under qemu-user, which is said in the output).
  int stop_promptly(int signo);
};

struct Finished {
  int rc = -1;
  std::string out;
  std::string err;
};
Finished run_fulfilctl(const Daemon& d, std::vector<std::string> args);
// The command with --json, which must succeed and print JSON.
nlohmann::json fulfilctl_json(const Daemon& d, std::vector<std::string> args);
// A terminal's token: a pairing code from fulfilctl, exchanged over HTTP.
std::string paired_token(const Daemon& d, const std::string& role);

// Calls `probe()` until `done(value)` or the timeout; the last value.
template <class Probe, class Done>
auto poll_until(std::chrono::milliseconds timeout, Probe&& probe, Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto value = probe();
  while (!done(value) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    value = probe();
  }
  return value;
}

}  // namespace fulfil::test
