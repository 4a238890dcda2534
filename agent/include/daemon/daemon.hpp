#pragma once
// The fulfild process: one io_context running the store's domain, the local API, timers
// and signals; systemd readiness and watchdog notifications.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "domain/store.hpp"

namespace fulfil::agent {

// A part of the daemon that lives in another library (the cloud link, the demo's cloud
// simulator) and runs on the daemon's io_context.
class DaemonComponent {
 public:
  virtual ~DaemonComponent() = default;
  virtual std::string name() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Something was committed locally: its outbox events are waiting.
  virtual void local_change() {}
  // Shown under name() in GET /health; null to show nothing.
  virtual nlohmann::json health() { return nullptr; }
  // The store box's devices (scanners, printers) and their state, for components that
  // report them (the cloud link's heartbeat).
  virtual void attach_devices(std::function<nlohmann::json()> /*devices*/) {}
  // The configuration changed (SIGHUP or a remote configuration): take on what can
  // change while running. The settings object is the daemon's, already updated.
  virtual void reconfigure(const config::Settings& /*settings*/) {}
  // What has been wrong since `since_ms` (when a remote configuration was applied), for
  // its health check; empty: nothing.
  virtual std::vector<std::string> problems_since(std::int64_t /*since_ms*/) { return {}; }
  // What the agent reports about itself changed (the configuration version): tell the
  // cloud now rather than at the next heartbeat.
  virtual void report_now() {}
};

// The components, or why the daemon must not start (exit 1): a device credential that
// belongs to another database, say.
using ComponentFactory =
    std::function<Expected<std::vector<std::unique_ptr<DaemonComponent>>, std::string>(
        boost::asio::io_context& io, Store& store, const config::Settings& settings)>;

struct DaemonOptions {
  config::LoadRequest config_request;  // re-read on SIGHUP
  bool demo = false;
  ComponentFactory components;
  // Run on every configuration the daemon loads (at start, on SIGHUP, for a remote
  // config): the demo's own printers and socket.
  std::function<void(config::Settings&)> adjust;
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_daemon(config::Settings settings, const DaemonOptions& options);

}  // namespace fulfil::agent
