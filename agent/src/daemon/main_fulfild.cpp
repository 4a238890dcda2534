// fulfild: the store-side point-of-fulfilment agent. Thin: parses flags, loads the
// configuration, and hands over to run_daemon().
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "config/log.hpp"
#include "config/remote_config.hpp"
#include "config/settings.hpp"
#include "daemon/daemon.hpp"
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
                         (terminal API on 127.0.0.1:8080 unless --listen is given)
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

namespace {

// The demo prints into STATE_DIR/labels: labels as ZPL, slips and pick lists as PDF, all
// at the demo terminal's station.
void demo_printers(fulfil::config::Settings& s) {
  const std::string dir = s.storage.state_dir + "/labels";
  std::filesystem::create_directories(dir);
  auto printer = [&](const char* id, const char* language) {
    return nlohmann::json{{"id", id},           {"kind", "file"},   {"language", language},
                          {"dpi", 203},         {"directory", dir}, {"cups_queue", ""},
                          {"cups_server", ""},  {"host", ""},       {"port", 9100},
                          {"timeout_ms", 15000}};
  };
  s.printers = {printer("demo-labels", "zpl"), printer("demo-paper", "pdf")};
  s.stations = {{{"id", "pack-1"},
                 {"documents",
                  {{"shipping_label", "demo-labels"},
                   {"pickup_shelf_label", "demo-labels"},
                   {"return_label", "demo-labels"},
                   {"packing_slip", "demo-paper"},
                   {"pick_list", "demo-paper"}}}}};
  s.document["printers"] = s.printers;
  s.document["stations"] = s.stations;
}

}  // namespace

int main(int argc, char** argv) {
  fulfil::log::install_terminate_handler("fulfild");
  fulfil::config::LoadRequest request;
  bool demo = false;
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
  if (demo) {
    // The demo never touches /var/lib/fulfild unless asked to.
    bool has_state_dir = false;
    for (const auto& o : request.overrides) has_state_dir |= o.rfind("storage.state_dir=", 0) == 0;
    if (!has_state_dir) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "fulfild-demo-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) return usage_error("cannot create a demo state directory");
      request.overrides.insert(request.overrides.begin(), "storage.state_dir=" + tmpl);
    }
    request.overrides.insert(request.overrides.begin(), "store.name=Demo Store Berlin Mitte");
  }
  auto settings = fulfil::config::load(request);
  if (!settings) return print_config_errors(settings.error());
  bool has_socket = false;
  for (const auto& o : request.overrides) has_socket |= o.rfind("api.socket=", 0) == 0;
  // The demo's cloud signs configurations with a brand key of its own, which this store
  // trusts, so brand IT's remote configuration can be tried end to end.
  std::string demo_brand_key;
  if (demo && settings->sync.cloud_url.empty() && settings->remote_config.public_keys.empty()) {
    const auto key = fulfil::config::generate_signing_key();
    const std::string path = settings->storage.state_dir + "/demo-brand.key";
    std::error_code ec;
    std::filesystem::create_directories(settings->storage.state_dir, ec);
    std::ofstream out(path, std::ios::trunc);
    out << key.private_key << "\n";
    out.close();
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    if (out.good() && !ec) demo_brand_key = key.public_key;  // else: no remote config in the demo
  }
  auto adjust = [demo, has_socket, demo_brand_key](fulfil::config::Settings& s) {
    if (!demo_brand_key.empty() && s.remote_config.public_keys.empty()) {
      s.remote_config.public_keys = {demo_brand_key};
      s.document["remote_config"]["public_keys"] = s.remote_config.public_keys;
    }
    if (demo && !has_socket) {
      // The demo runs as the user, who cannot write /run/fulfild: the socket goes with the
      // state.
      s.api.socket = s.storage.state_dir + "/api.sock";
      s.document["api"]["socket"] = s.api.socket;
    }
    if (demo && s.printers.empty()) demo_printers(s);
  };
  adjust(*settings);
  fulfil::agent::DaemonOptions options{request, demo, {}, adjust};
  options.components = [demo](boost::asio::io_context& io, fulfil::agent::Store& store,
                              const fulfil::config::Settings& s) {
    return fulfil::sync::make_cloud_components(io, store, s, demo, FULFIL_VERSION);
  };
  return fulfil::agent::run_daemon(std::move(*settings), options);
}
