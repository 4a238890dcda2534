#include "sync/components.hpp"

#include <sys/statvfs.h>

#include <set>

#include "config/clock.hpp"
#include "config/log.hpp"
#include "domain/cloud_commands.hpp"
#include "sync/cloud_link.hpp"

namespace fulfil::sync {
namespace asio = boost::asio;
using nlohmann::json;

std::vector<std::string> outbox_alarms(agent::Store& store, const config::Settings& s) {
  std::vector<std::string> alarms;
  const auto stats = store.outbox().stats();
  const std::int64_t age_s =
      stats.oldest_pending_at ? (agent::now_ms() - stats.oldest_pending_at) / 1000 : 0;
  if (stats.pending > s.sync.outbox_alarm_depth)
    alarms.push_back("outbox_depth: " + std::to_string(stats.pending) + " events unsent");
  if (age_s > s.sync.outbox_alarm_age_s)
    alarms.push_back("outbox_age: oldest unsent event is " + std::to_string(age_s) + " s old");
  if (stats.dead > 0)
    alarms.push_back("dead_letters: " + std::to_string(stats.dead) +
                     " events refused by the cloud");
  // Loud for a day, and for as long as stock still waits for the re-basing snapshot.
  if (auto repair = store.outbox().last_repair()) {
    const bool rebasing = !agent::CloudCommands(store).snapshot_requested().is_null();
    if (rebasing || agent::now_ms() - repair->detected_at < 24 * 3600 * 1000)
      alarms.push_back(
          "events_lost: the cloud holds this store's events up to " +
          std::to_string(repair->cloud_highest) + " but this database had reached " +
          std::to_string(repair->local_highest) +
          ": work committed here was lost (a restored or damaged database). New events continue "
          "at " +
          std::to_string(repair->next_seq) +
          (rebasing ? "; stock waits for the cloud's snapshot" : "; stock was re-based"));
  }
  struct statvfs fs {};
  if (::statvfs(s.storage.state_dir.c_str(), &fs) == 0) {
    const auto free_mb = static_cast<std::int64_t>(fs.f_bavail) *
                         static_cast<std::int64_t>(fs.f_frsize) / (1024 * 1024);
    if (free_mb < s.sync.disk_free_alarm_mb)
      alarms.push_back("disk_free: " + std::to_string(free_mb) + " MB left in " +
                       s.storage.state_dir);
  }
  return alarms;
}

namespace {

std::int64_t disk_free_bytes(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return -1;
  return static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
}

CloudLinkOptions link_options(const config::Settings& s, const std::string& agent_version) {
  CloudLinkOptions o;
  o.base_url = s.sync.cloud_url;
  o.store_id = s.store.id;
  o.enrolment_code = s.sync.enrolment_code;
  o.credential_path = s.storage.state_dir + "/device-credential.json";
  o.agent_version = agent_version;
  o.batch_size = static_cast<std::size_t>(s.sync.batch_size);
  o.feed_wait = std::chrono::seconds(s.sync.feed_wait_s);
  o.heartbeat_every = std::chrono::seconds(s.sync.heartbeat_s);
  // An acknowledgement is bookkeeping (a lost one means a duplicate the cloud ignores):
  // recorded with the next change, not with a write of its own (SD-card wear).
  o.ack_record_delay = std::chrono::seconds(60);
  o.request_timeout = std::chrono::seconds(s.sync.request_timeout_s);
  o.backoff_initial = std::chrono::milliseconds(s.sync.backoff_initial_ms);
  o.backoff_max = std::chrono::milliseconds(s.sync.backoff_max_ms);
  o.http.ca_file = s.sync.ca_file;
  o.http.pinned_public_key = s.sync.pinned_public_key;
  o.http.proxy = s.sync.proxy;
  o.http.verify_tls = s.sync.verify_tls;
  o.http.max_response_bytes = static_cast<std::size_t>(s.sync.max_response_bytes);
  o.http.user_agent = "fulfild/" + agent_version;
  return o;
}

class CloudLinkComponent : public agent::DaemonComponent {
 public:
  CloudLinkComponent(asio::io_context& io, agent::Store& store, const config::Settings& s,
                     CloudLinkOptions options)
      : store_(store),
        settings_(s),
        cloud_url_(options.base_url),
        link_(io, store, std::move(options), [this] { return heartbeat_extra(); }) {}

  std::string name() const override { return "sync"; }
  void start() override {
    log::info("sync", "cloud link starting", {{"cloud", cloud_url_}});
    link_.start();
  }
  void stop() override { link_.stop(); }
  void local_change() override { link_.outbox_changed(); }

  void attach_devices(std::function<json()> devices) override { devices_ = std::move(devices); }

  void reconfigure(const config::Settings& s) override {
    link_.retune(link_options(s, ""));
    link_.heartbeat_now();
  }

  void report_now() override { link_.heartbeat_now(); }

  std::vector<std::string> problems_since(std::int64_t since_ms) override {
    const auto& st = link_.status();
    if (st.last_sync_at >= since_ms) return {};
    return {"sync: no successful exchange with the cloud since the change" +
            (st.last_error.empty() ? std::string() : " (last error: " + st.last_error + ")")};
  }

  json health() override {
    const auto& st = link_.status();
    return {{"cloud_url", cloud_url_},
            {"enrolled", st.enrolled},
            {"credential_revoked", st.credential_revoked},
            {"last_sync_at", st.last_sync_at},
            {"events_sent", st.events_sent},
            {"commands_applied", st.commands_applied},
            {"upload_failures", st.upload_failures},
            {"feed_failures", st.feed_failures},
            {"last_error", st.last_error},
            {"alarms", current_alarms()}};
  }

 private:
  agent::Store& store_;
  const config::Settings& settings_;
  std::string cloud_url_;
  CloudLink link_;
  std::set<std::string> raised_;
  std::function<json()> devices_;

  // Logged when an alarm appears and when it clears, not on every evaluation.
  std::vector<std::string> current_alarms() {
    auto alarms = outbox_alarms(store_, settings_);
    std::set<std::string> kinds;
    for (const auto& a : alarms) kinds.insert(a.substr(0, a.find(':')));
    for (const auto& a : alarms)
      if (!raised_.count(a.substr(0, a.find(':'))))
        log::warn("sync", "alarm raised", {{"alarm", a}});
    for (const auto& k : raised_)
      if (!kinds.count(k)) log::info("sync", "alarm cleared", {{"alarm", k}});
    raised_ = kinds;
    return alarms;
  }

  json heartbeat_extra() {
    return {
        {"config_version", store_.remote_configs().active_version()},
        {"disk_free_bytes", disk_free_bytes(settings_.storage.state_dir)},
        {"devices", devices_ ? devices_() : json::array()},
        {"alarms", current_alarms()},
        {"capacity", agent::capacity_json(store_.orders().capacity().status(config::now_ms()))}};
  }
};

}  // namespace

Expected<std::vector<std::unique_ptr<agent::DaemonComponent>>, std::string> make_cloud_components(
    asio::io_context& io, agent::Store& store, const config::Settings& s,
    const std::string& agent_version, const std::optional<CloudOverride>& cloud) {
  std::vector<std::unique_ptr<agent::DaemonComponent>> out;
  CloudLinkOptions o = link_options(s, agent_version);
  o.database_id = store.identity().database_id;

  if (cloud) {
    o.base_url = cloud->base_url;
    o.enrolment_code = cloud->enrolment_code;
    o.credential_path = cloud->credential_path;
    o.feed_wait = cloud->feed_wait;
  }
  if (o.base_url.empty()) {
    log::warn("sync",
              "no sync.cloud_url: running standalone; events are kept until a cloud is "
              "configured");
    return out;
  }
  if (auto ok = check_device_credential(o.credential_path, o.database_id); !ok)
    return unexpected(ok.error());
  out.push_back(std::make_unique<CloudLinkComponent>(io, store, s, std::move(o)));
  return out;
}

}  // namespace fulfil::sync
