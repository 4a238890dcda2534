#pragma once
// The in-store terminal API: JSON REST for the whole pick/pack/handover workflow, a
// WebSocket that pushes every change to the connected terminals, Prometheus metrics, and
// the associates' web UI, all on the daemon's HttpServer. Documented in
// agent/terminal-api.openapi.yaml.
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "devices/print_spooler.hpp"
#include "devices/scanners.hpp"
#include "domain/store.hpp"
#include "http/http_server.hpp"

namespace fulfil::agent {

struct TerminalApiHooks {
  // After every committed mutation: the cloud link drains the new outbox events.
  std::function<void()> local_change;
  // The other components' health (the cloud link), for /metrics and the device screen.
  std::function<nlohmann::json()> component_health;
  // Each configured scanner's status (GET /api/v1/devices, /api/v1/stations).
  std::function<nlohmann::json()> scanners;
  PrintSpooler* printing = nullptr;  // print routes answer 503 without it
  bool demo = false;                 // the UI may ask for a pairing code (loopback demo only)
};

class TerminalApi {
 public:
  TerminalApi(boost::asio::io_context& io, HttpServer& server, Store& store,
              const config::Settings& settings, TerminalApiHooks hooks);
  ~TerminalApi();
  // Changes made outside the API (the cloud feed, the SLA sweep) reach the terminals by the
  // outbox; this pushes them now instead of at the next poll.
  void publish_changes();
  // A message for every connected terminal (alarms).
  void broadcast(const nlohmann::json& message);
  std::size_t connected_terminals() const;
  // A read from a station's scanner: picked into the station's active session when it has
  // one (committed with its audit row), and pushed to the station's terminals either way.
  void hardware_scan(const HardwareScan& scan);
  // A scanner connected or went away: the terminals' device screens update.
  void devices_changed();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace fulfil::agent
