#pragma once
// Internal to the demo: its reference cloud, in the daemon's process.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/expected.hpp"
#include "config/settings.hpp"
#include "daemon/daemon.hpp"
#include "domain/store.hpp"

namespace fulfil::demo {

// In the state directory: the private key the demo's cloud signs configurations with.
inline constexpr const char* kBrandKeyFile = "demo-brand.key";

// Seeds the store, then: the cloud link to sync.cloud_url when one is configured, else a
// reference cloud simulator on a free loopback port that routes an order now and then,
// and the cloud link to it.
Expected<std::vector<std::unique_ptr<agent::DaemonComponent>>, std::string> make_demo_components(
    boost::asio::io_context& io, agent::Store& store, const config::Settings& settings,
    const std::string& agent_version, int first_orders);

}  // namespace fulfil::demo
