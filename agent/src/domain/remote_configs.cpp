#include "domain/remote_configs.hpp"

#include <array>
#include <stdexcept>

#include "state_names.hpp"

namespace fulfil::agent {
namespace {

using nlohmann::json;
using RC = RemoteConfigState;

constexpr std::array<std::string_view, 6> kRemoteConfigStates = {
    "received", "trying", "active", "superseded", "rolled_back", "refused"};
static_assert(kRemoteConfigStates.size() == static_cast<std::size_t>(RC::refused) + 1,
              "a name for every RemoteConfigState");

// The lifecycle of a remote configuration: the states each decision may leave. A new one
// is received; verified, it is tried (or refused); a healthy trial becomes active (the
// previous active one superseded), a failed one is rolled back.
struct RemoteConfigStep {
  RemoteConfigState to;
  std::string_view from;  // an SQL list of state names
};
constexpr std::array kRemoteConfigSteps{
    RemoteConfigStep{RC::refused, "('received')"},   RemoteConfigStep{RC::trying, "('received')"},
    RemoteConfigStep{RC::active, "('trying')"},      RemoteConfigStep{RC::superseded, "('active')"},
    RemoteConfigStep{RC::rolled_back, "('trying')"},
};

std::string may_leave(RemoteConfigState to) {
  return agent::may_leave(kRemoteConfigSteps, to);
}

constexpr const char* kRemoteConfigColumns =
    "SELECT id, command_id, payload, version, key_id, settings, state, reason, received_at, "
    "coalesce(decided_at, 0) FROM remote_config ";

RemoteConfigRecord read(const Statement& s) {
  RemoteConfigRecord r;
  r.id = s.int64(0);
  r.command_id = s.text(1);
  r.payload = s.text(2);
  r.version = s.int64(3);
  r.key_id = s.text(4);
  const std::string settings = s.text(5);
  r.settings = settings.empty() ? json() : json::parse(settings, nullptr, false);
  r.state = remote_config_state_from(s.text(6)).value_or(RC::refused);
  r.reason = s.text(7);
  r.received_at = s.int64(8);
  r.decided_at = s.int64(9);
  return r;
}

}  // namespace

std::string_view remote_config_state_name(RemoteConfigState s) {
  return name_in(kRemoteConfigStates, s);
}

std::optional<RemoteConfigState> remote_config_state_from(std::string_view name) {
  return value_in<RemoteConfigState>(kRemoteConfigStates, name);
}

json RemoteConfigRecord::to_json() const {
  json j = {{"id", id},
            {"version", version},
            {"state", remote_config_state_name(state)},
            {"reason", reason},
            {"key_id", key_id},
            {"command_id", command_id},
            {"received_at", received_at},
            {"decided_at", decided_at}};
  if (!settings.is_null()) j["settings"] = settings;
  return j;
}

void RemoteConfigs::receive(const std::string& command_id, const json& payload, std::int64_t at) {
  db_.prepare(
         "INSERT INTO remote_config (command_id, payload, state, received_at) "
         "VALUES (?, ?, 'received', ?)")
      .bind(1, command_id)
      .bind(2, payload.dump())
      .bind(3, at)
      .run();
}

std::optional<RemoteConfigRecord> RemoteConfigs::one(const std::string& where) {
  auto s = db_.prepare(std::string(kRemoteConfigColumns) + where);
  if (!s.step()) return std::nullopt;
  return read(s);
}

std::optional<RemoteConfigRecord> RemoteConfigs::next_received() {
  return one("WHERE state='received' ORDER BY id LIMIT 1");
}

std::optional<RemoteConfigRecord> RemoteConfigs::trying() {
  return one("WHERE state='trying' ORDER BY id LIMIT 1");
}

std::optional<RemoteConfigRecord> RemoteConfigs::active() {
  return one("WHERE state='active' ORDER BY id DESC LIMIT 1");
}

std::int64_t RemoteConfigs::active_version() {
  auto s = db_.prepare("SELECT coalesce(max(version), 0) FROM remote_config WHERE state='active'");
  s.step();
  return s.int64(0);
}

std::int64_t RemoteConfigs::highest_tried_version() {
  auto s = db_.prepare(
      "SELECT coalesce(max(version), 0) FROM remote_config "
      "WHERE state IN ('trying', 'active', 'superseded', 'rolled_back')");
  s.step();
  return s.int64(0);
}

std::vector<RemoteConfigRecord> RemoteConfigs::history(std::size_t limit) {
  auto s = db_.prepare(std::string(kRemoteConfigColumns) + "ORDER BY id DESC LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  std::vector<RemoteConfigRecord> out;
  while (s.step()) out.push_back(read(s));
  return out;
}

void RemoteConfigs::decide(std::int64_t id, RemoteConfigState to, const std::string& reason,
                           std::int64_t at) {
  db_.prepare("UPDATE remote_config SET state=?, reason=?, decided_at=? WHERE id=?" + may_leave(to))
      .bind(1, remote_config_state_name(to))
      .bind(2, reason)
      .bind(3, at)
      .bind(4, id)
      .run();
  if (db_.changes() != 1)
    throw std::logic_error("remote configuration " + std::to_string(id) + " cannot become " +
                           std::string(remote_config_state_name(to)) + " from its state");
}

void RemoteConfigs::refuse(std::int64_t id, std::int64_t version, const std::string& code,
                           const std::string& reason, std::int64_t at) {
  Transaction tx(db_);
  db_.prepare("UPDATE remote_config SET version=? WHERE id=?").bind(1, version).bind(2, id).run();
  decide(id, RC::refused, code + ": " + reason, at);
  auto r = one("WHERE id=" + std::to_string(id));
  outbox_.append("config.refused", "config",
                 {{"version", version},
                  {"code", code},
                  {"reason", reason},
                  {"command_id", r ? r->command_id : ""},
                  {"running_version", active_version()}},
                 at);
  tx.commit();
}

void RemoteConfigs::start_trial(std::int64_t id, std::int64_t version, const std::string& key_id,
                                const json& settings, std::int64_t at) {
  Transaction tx(db_);
  db_.prepare("UPDATE remote_config SET version=?, key_id=?, settings=? WHERE id=?")
      .bind(1, version)
      .bind(2, key_id)
      .bind(3, settings.dump())
      .bind(4, id)
      .run();
  decide(id, RC::trying, "", at);
  tx.commit();
}

void RemoteConfigs::activate(std::int64_t id, std::int64_t at) {
  Transaction tx(db_);
  const std::int64_t previous = active_version();
  db_.prepare("UPDATE remote_config SET state='superseded' WHERE state='active'").run();
  decide(id, RC::active, "", at);
  auto r = one("WHERE id=" + std::to_string(id));
  outbox_.append("config.applied", "config",
                 {{"version", r ? r->version : 0}, {"previous_version", previous}}, at);
  tx.commit();
}

void RemoteConfigs::roll_back(std::int64_t id, const std::string& reason, const json& failed_checks,
                              std::int64_t at) {
  Transaction tx(db_);
  decide(id, RC::rolled_back, reason, at);
  auto r = one("WHERE id=" + std::to_string(id));
  outbox_.append("config.rolled_back", "config",
                 {{"version", r ? r->version : 0},
                  {"restored_version", active_version()},
                  {"reason", reason},
                  {"failed_checks", failed_checks}},
                 at);
  tx.commit();
}

}  // namespace fulfil::agent
