#pragma once
// The fulfild process: one io_context running the store's domain, the local API, timers
// and signals; systemd readiness and watchdog notifications.
#include <string>

#include "config/settings.hpp"

namespace fulfil::agent {

struct DaemonOptions {
  config::LoadRequest config_request;  // re-read on SIGHUP
  bool demo = false;
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_daemon(config::Settings settings, const DaemonOptions& options);

}  // namespace fulfil::agent
