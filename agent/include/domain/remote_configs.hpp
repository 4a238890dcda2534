#pragma once
// The remote configurations brand IT pushed through the feed, kept with their fate:
// received (stored by the feed command, not yet looked at), trying (applied, on trial
// until it proves healthy), active (the one layered over the local file), superseded,
// rolled_back, refused. Every decision commits together with the event that tells the
// cloud about it (config.applied, config.refused, config.rolled_back).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class RemoteConfigState { received, trying, active, superseded, rolled_back, refused };
std::string_view remote_config_state_name(RemoteConfigState s);
std::optional<RemoteConfigState> remote_config_state_from(std::string_view name);

struct RemoteConfigRecord {
  std::int64_t id = 0;
  std::string command_id;
  std::string payload;  // the feed command's payload, as received (JSON text)
  std::int64_t version = 0;
  std::string key_id;
  nlohmann::json settings;  // null until the signature has been verified
  RemoteConfigState state = RemoteConfigState::received;
  std::string reason;
  std::int64_t received_at = 0;
  std::int64_t decided_at = 0;
  nlohmann::json to_json() const;  // for the API and fulfilctl (without the payload)
};

class RemoteConfigs {
 public:
  RemoteConfigs(Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {}

  // Inside the feed command's transaction.
  void receive(const std::string& command_id, const nlohmann::json& payload, std::int64_t at);

  std::optional<RemoteConfigRecord> next_received();
  std::optional<RemoteConfigRecord> trying();
  std::optional<RemoteConfigRecord> active();
  std::int64_t active_version();  // 0: none (the local file alone)
  // The highest version ever put on trial: a version at or below it is never tried again.
  std::int64_t highest_tried_version();
  std::vector<RemoteConfigRecord> history(std::size_t limit);

  void refuse(std::int64_t id, std::int64_t version, const std::string& code,
              const std::string& reason, std::int64_t at);
  // Committed before the configuration is applied, so a crash during its trial is known
  // at the next start (and rolled back there).
  void start_trial(std::int64_t id, std::int64_t version, const std::string& key_id,
                   const nlohmann::json& settings, std::int64_t at);
  void activate(std::int64_t id, std::int64_t at);
  void roll_back(std::int64_t id, const std::string& reason, const nlohmann::json& failed_checks,
                 std::int64_t at);

 private:
  std::optional<RemoteConfigRecord> one(const std::string& where);
  // Moves the record to `to` from the states its row of the lifecycle names
  // (remote_configs.cpp: kRemoteConfigSteps); a record in any other state is a bug.
  void decide(std::int64_t id, RemoteConfigState to, const std::string& reason, std::int64_t at);
  Database& db_;
  Outbox& outbox_;
};

}  // namespace fulfil::agent
