#pragma once
// `fulfild --demo`, in one place: a sample store (a catalog with GTIN barcodes and bins,
// opening stock), printers that write into a folder, and a reference cloud in the same
// process that routes an order now and then. `fulfil-cloudsim --orders-per-minute` routes
// the same orders.
#include <cstdint>
#include <random>
#include <string>

#include "config/expected.hpp"
#include "config/settings.hpp"
#include "daemon/daemon.hpp"
#include "domain/store.hpp"

namespace fulfil::demo {

inline constexpr int kDemoSkuCount = 300;

// Seeds an empty store (catalog + opening stock, and one pickup order left uncollected on
// its shelf for nine days); does nothing if the catalog exists.
agent::Result<void> seed_demo_store(agent::Store& store, std::int64_t now_ms);

// A plausible routed order over the demo catalog (1-3 lines, ship or pickup).
agent::FulfilmentOrder demo_order(std::mt19937& rng, int number, std::int64_t now_ms);

// --demo's additions to the command line, before the configuration is loaded: a new
// temporary state directory (unless one is given; the demo never touches
// /var/lib/fulfild unless asked to) and the sample store's name.
Expected<void, std::string> prepare_request(config::LoadRequest& request);

// How the daemon runs the demo, for `settings` as loaded from `request` (adjusted here):
// printers writing into STATE_DIR/labels, the API socket beside the state (the user
// cannot write /run/fulfild), a brand key of its own so that remote configuration can be
// tried end to end; at start, the sample catalog, and a reference cloud in the process
// unless sync.cloud_url names a real one.
// `first_orders` are routed a second apart at start (a busy morning to try the queue and
// waves on), then one every 45 s; each expires 15 min after it is routed unless accepted.
agent::DaemonOptions daemon_options(config::Settings& settings, const config::LoadRequest& request,
                                    const std::string& agent_version, int first_orders = 5);

}  // namespace fulfil::demo
