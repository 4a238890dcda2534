#pragma once
// The cloud link (and, in demo mode, an in-process reference cloud) as parts of the
// fulfild daemon.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "daemon/daemon.hpp"
#include "domain/orders.hpp"

namespace fulfil::sync {

// No cloud_url and not a demo: empty (the store runs standalone, events queue up). Refused
// when the stored device credential belongs to another database (check_device_credential).
Expected<std::vector<std::unique_ptr<agent::DaemonComponent>>, std::string> make_cloud_components(
    boost::asio::io_context& io, agent::Store& store, const config::Settings& settings, bool demo,
    const std::string& agent_version);

// An order.routed command's payload, as the protocol defines it.
nlohmann::json routed_order_json(const agent::FulfilmentOrder& order);

// Alarms about the outbox and the disk, by the thresholds in the sync settings.
std::vector<std::string> outbox_alarms(agent::Store& store, const config::Settings& settings);

}  // namespace fulfil::sync
