#pragma once
// The cloud link as a part of the fulfild daemon (the demo adds its own reference cloud:
// agent/src/demo).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "daemon/daemon.hpp"
#include "domain/store.hpp"

namespace fulfil::sync {

// A cloud other than sync.cloud_url's, with its own enrolment and credential (the demo's
// reference cloud in the same process).
struct CloudOverride {
  std::string base_url;
  std::string enrolment_code;
  std::string credential_path;
  std::chrono::seconds feed_wait{20};
};

// The cloud link to sync.cloud_url (or `cloud`); without either, empty: the store runs
// standalone and its events queue up. Refused when the stored device credential belongs
// to another database (check_device_credential).
Expected<std::vector<std::unique_ptr<agent::DaemonComponent>>, std::string> make_cloud_components(
    boost::asio::io_context& io, agent::Store& store, const config::Settings& settings,
    const std::string& agent_version, const std::optional<CloudOverride>& cloud = std::nullopt);

// Alarms about the outbox and the disk, by the thresholds in the sync settings.
std::vector<std::string> outbox_alarms(agent::Store& store, const config::Settings& settings);

}  // namespace fulfil::sync
