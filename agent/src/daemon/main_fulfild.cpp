// fulfild: the store-side point-of-fulfilment agent. Thin: parses flags, loads the
// configuration, and hands over to run_daemon().
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "config/log.hpp"
#include "config/settings.hpp"
#include "daemon/daemon.hpp"
#include "demo/demo.hpp"
#include "sync/components.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: fulfild [OPTIONS]

The store-side point-of-fulfilment agent: keeps the store's inventory replica, receives
the orders the brand's cloud routes to the store, drives pick/pack/handover, and syncs
every change back to the cloud, offline or not.

Options:
  --config PATH          JSON configuration file (see the README's reference)
  --set KEY=VALUE        override one setting, e.g. --set log.level=debug (repeatable)
  --state-dir DIR        same as --set storage.state_dir=DIR
  --listen ADDR:PORT     same as --set api.listen=ADDR:PORT
  --log-level LEVEL      same as --set log.level=LEVEL (debug, info, warn, error)
  --demo                 run a sample store in a temporary state directory
                         (terminal API on 127.0.0.1:8080 unless --listen is given);
                         it routes 5 orders at start, then one every 45 s, each
                         expiring 15 min later unless accepted
  --demo-orders N        with --demo: route N orders at start instead (0 to 500)
  --check-config PATH    validate a configuration file and exit (0 = valid)
  --config-reference     print every configuration key as a Markdown table
  --version              print the version
  --help                 this text

Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the configuration file.
Exit codes: 0 stopped cleanly or config valid, 1 runtime failure, 2 bad usage or config.
)";

int usage_error(const std::string& message) {
  std::cerr << "fulfild: " << message << "\nTry 'fulfild --help'.\n";
  return 2;
}

int print_config_errors(const fulfil::config::ConfigErrors& errors) {
  for (const auto& e : errors) std::cerr << "fulfild: " << e.describe() << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fulfil::log::install_terminate_handler("fulfild");
  fulfil::config::LoadRequest request;
  bool demo = false;
  int demo_orders = 5;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)flag;
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "fulfild " << FULFIL_VERSION << "\n";
      return 0;
    } else if (a == "--config-reference") {
      std::cout << fulfil::config::reference_markdown();
      return 0;
    } else if (a == "--check-config") {
      const std::string* path = value("--check-config");
      if (!path) return usage_error("--check-config needs a PATH");
      auto loaded = fulfil::config::load({*path, {}});
      if (!loaded) return print_config_errors(loaded.error());
      std::cout << "fulfild: " << *path << " is valid\n";
      return 0;
    } else if (a == "--demo") {
      demo = true;
    } else if (a == "--demo-orders") {
      const std::string* v = value("--demo-orders");
      char* end = nullptr;
      const long n = v ? std::strtol(v->c_str(), &end, 10) : -1;
      if (!v || v->empty() || *end != '\0' || n < 0 || n > 500)
        return usage_error("--demo-orders needs a number of orders from 0 to 500");
      demo_orders = static_cast<int>(n);
    } else if (a == "--config" || a == "--set" || a == "--state-dir" || a == "--listen" ||
               a == "--log-level") {
      const std::string* v = value(a.c_str());
      if (!v) return usage_error(a + " needs a value");
      if (a == "--config")
        request.file = *v;
      else if (a == "--set")
        request.overrides.push_back(*v);
      else if (a == "--state-dir")
        request.overrides.push_back("storage.state_dir=" + *v);
      else if (a == "--listen")
        request.overrides.push_back("api.listen=" + *v);
      else
        request.overrides.push_back("log.level=" + *v);
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (demo)
    if (auto ok = fulfil::demo::prepare_request(request); !ok) return usage_error(ok.error());
  auto settings = fulfil::config::load(request);
  if (!settings) return print_config_errors(settings.error());
  fulfil::agent::DaemonOptions options{request, false, {}, {}};
  if (demo) {
    options = fulfil::demo::daemon_options(*settings, request, FULFIL_VERSION, demo_orders);
  } else {
    options.components = [](boost::asio::io_context& io, fulfil::agent::Store& store,
                            const fulfil::config::Settings& s) {
      return fulfil::sync::make_cloud_components(io, store, s, FULFIL_VERSION);
    };
  }
  return fulfil::agent::run_daemon(std::move(*settings), options);
}
