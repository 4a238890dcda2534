#pragma once
// The agent's side of the cloud protocol (sync/PROTOCOL.md): enrolment, the command feed
// (long-poll, applied exactly once), event upload (gzip batches, ack by id, backoff,
// dead letters) and the heartbeat. Runs on the agent's io_context; all HTTP is async.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "domain/store.hpp"
#include "sync/http_client.hpp"

namespace fulfil::sync {

struct CloudLinkOptions {
  std::string base_url;  // e.g. "https://cloud.example.com"; no trailing slash
  std::string store_id;
  std::string enrolment_code;   // used once, when no credential is stored
  std::string credential_path;  // the device credential (0600) in the state directory
  std::string database_id;      // the store database's identity, recorded in the credential
  std::string agent_version;
  std::size_t batch_size = 500;
  std::size_t feed_page_size = 100;
  std::chrono::seconds feed_wait{25};
  std::chrono::seconds heartbeat_every{60};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{300000};
  // Acknowledgements of small batches are recorded with the next local change, or after
  // this long (Outbox::acknowledge_later); 0 records each at once.
  std::chrono::milliseconds ack_record_delay{0};
  HttpClientOptions http;
};

struct LinkStatus {
  bool enrolled = false;
  bool credential_revoked = false;
  std::int64_t last_sync_at = 0;  // last successful exchange with the cloud (epoch ms)
  std::int64_t events_sent = 0;
  std::int64_t commands_applied = 0;
  int upload_failures = 0;  // consecutive
  int feed_failures = 0;    // consecutive
  std::string last_error;
};

// A stored device credential belongs to the database it was enrolled with. One that names
// another database means this database is not the one the cloud knows (lost and started
// afresh, or swapped): serving would number events the cloud already holds under other ids,
// so start-up is refused with what to do. A credential from before databases had ids is
// given this one. No credential: nothing to check (the link enrols).
Expected<void, std::string> check_device_credential(const std::string& path,
                                                    const std::string& database_id);

class CloudLink {
 public:
  // `heartbeat_extra` adds the agent's own figures (devices, alarms, config version...).
  CloudLink(boost::asio::io_context& io, agent::Store& store, CloudLinkOptions options,
            std::function<nlohmann::json()> heartbeat_extra = {});
  ~CloudLink();
  void start();
  void stop();
  // Local commits happened: send their events soon.
  void outbox_changed();
  const LinkStatus& status() const;
  // Takes new timings and limits (batch size, feed wait, heartbeat, timeouts, backoff)
  // from a configuration change; where and how it connects stays as started.
  void retune(const CloudLinkOptions& options);
  // A heartbeat now, not at the next tick: after a configuration change the cloud learns
  // the version and the agent learns whether the cloud still answers.
  void heartbeat_now();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::sync
