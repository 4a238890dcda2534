#include "config_rollout.hpp"

#include "config/log.hpp"
#include "config/remote_config.hpp"

namespace fulfil::agent {
namespace asio = boost::asio;
using nlohmann::json;

namespace {
constexpr auto kPoll = std::chrono::milliseconds(500);

std::string describe(const config::ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.describe();
  return out;
}
}  // namespace

ConfigRollout::ConfigRollout(asio::io_context& io, Store& store, RolloutHooks hooks)
    : store_(store), hooks_(std::move(hooks)), timer_(io) {}

void ConfigRollout::start() {
  running_ = true;
  if (auto interrupted = store_.remote_configs().trying()) {
    const std::string why = "the agent stopped while version " +
                            std::to_string(interrupted->version) +
                            " was on trial; it runs the previous configuration";
    store_.remote_configs().roll_back(interrupted->id, why, json::array({"restart"}), now_ms());
    log::warn("config", "remote configuration rolled back",
              {{"version", interrupted->version}, {"reason", why}});
    hooks_.reported();
  }
  schedule(std::chrono::milliseconds(0));
}

void ConfigRollout::stop() {
  running_ = false;
  timer_.cancel();
}

void ConfigRollout::schedule(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || !running_) return;
    tick();
    schedule(kPoll);
  });
}

void ConfigRollout::tick() {
  try {
    if (trial_) return check_trial();
    if (auto received = store_.remote_configs().next_received()) take(*received);
  } catch (const StorageFailure& e) {
    log::error("config", "remote configuration step failed; retrying", {{"error", e.what()}});
  }
}

void ConfigRollout::refuse(const RemoteConfigRecord& r, std::int64_t version,
                           config::ConfigRefusalCode refusal, const std::string& why) {
  const std::string code(config::refusal_code_name(refusal));
  store_.remote_configs().refuse(r.id, version, code, why, now_ms());
  log::warn("config", "remote configuration refused; the running configuration stays",
            {{"version", version}, {"code", code}, {"reason", why}});
  hooks_.reported();
}

void ConfigRollout::take(const RemoteConfigRecord& r) {
  const config::Settings& running = hooks_.running();
  auto verified = config::verify_desired_config(json::parse(r.payload, nullptr, false),
                                                running.remote_config.public_keys);
  if (!verified)
    return refuse(r, verified.error().version, verified.error().code, verified.error().message);
  const config::DesiredConfig& desired = *verified;
  if (!desired.store_id.empty() && desired.store_id != running.store.id)
    return refuse(
        r, desired.version, config::ConfigRefusalCode::wrong_store,
        "it is signed for store '" + desired.store_id + "', this is '" + running.store.id + "'");
  const std::int64_t highest = store_.remote_configs().highest_tried_version();
  if (desired.version <= highest)
    return refuse(r, desired.version, config::ConfigRefusalCode::stale_version,
                  "version " + std::to_string(desired.version) + " is not newer than version " +
                      std::to_string(highest) + ", already tried here");
  if (auto local = config::local_only_keys(desired.settings, "remote config"); !local.empty())
    return refuse(r, desired.version, config::ConfigRefusalCode::local_only_key, describe(local));
  const std::string source = "remote config v" + std::to_string(desired.version);
  auto next = hooks_.load(desired.settings, source);
  if (!next)
    return refuse(r, desired.version, config::ConfigRefusalCode::invalid, describe(next.error()));

  // On trial from here; committed before anything changes, so a crash is known.
  const std::int64_t now = now_ms();
  store_.remote_configs().start_trial(r.id, desired.version, desired.key_id, desired.settings, now);
  const auto deadline_s = running.remote_config.health_deadline_s;
  trial_ = Trial{r.id, desired.version, now, now + std::int64_t{deadline_s} * 1000, running};
  log::info("config", "remote configuration on trial",
            {{"version", desired.version}, {"deadline_s", deadline_s}, {"key", desired.key_id}});
  hooks_.apply(*next);
}

void ConfigRollout::check_trial() {
  Trial& t = *trial_;
  last_problems_ = hooks_.problems_since(t.started_at);
  const std::int64_t now = now_ms();
  if (last_problems_.empty()) {
    store_.remote_configs().activate(t.id, now);
    log::info("config", "remote configuration applied",
              {{"version", t.version}, {"healthy_after_ms", now - t.started_at}});
    trial_.reset();
    hooks_.reported();
    return;
  }
  if (now < t.deadline) return;
  std::string why;
  for (const auto& p : last_problems_) why += (why.empty() ? "" : "; ") + p;
  why =
      "not healthy " + std::to_string((now - t.started_at) / 1000) + " s after the change: " + why;
  hooks_.apply(t.previous);
  store_.remote_configs().roll_back(t.id, why, last_problems_, now);
  log::warn("config", "remote configuration rolled back",
            {{"version", t.version}, {"reason", why}});
  trial_.reset();
  hooks_.reported();
}

json ConfigRollout::status() {
  json out = {{"running_version", store_.remote_configs().active_version()}};
  if (trial_) {
    out["trying_version"] = trial_->version;
    out["deadline_in_ms"] = std::max<std::int64_t>(0, trial_->deadline - now_ms());
    out["problems"] = last_problems_;
  }
  return out;
}

}  // namespace fulfil::agent
