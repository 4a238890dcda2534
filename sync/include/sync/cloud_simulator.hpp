#pragma once
// The reference cloud: the cloud side of the protocol (sync/PROTOCOL.md) over real HTTP,
// for tests, the demo and benchmarks. Stores enrol with one-time codes, receive commands
// through the long-polled feed, and deliver events, which are recorded once per id and
// can be inspected through the admin endpoints. Faults can be injected: error responses
// with Retry-After, latency, connection resets, truncated bodies, duplicate feed
// deliveries, out-of-order acknowledgements, and whole outages.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/expected.hpp"

namespace fulfil::sync {

struct FaultPlan {
  double error_rate = 0;           // share of requests answered 500/503 (+ Retry-After)
  double reset_rate = 0;           // share of requests whose connection is dropped
  double truncate_rate = 0;        // share of responses cut off half-way
  double duplicate_feed_rate = 0;  // share of feed pages that repeat earlier commands
  bool out_of_order_acks = false;  // acknowledge ids in a shuffled order
  int latency_ms = 0;              // added to every answer
  std::string reject_event_type;   // events of this type are refused (dead-letter tests)
  std::string poison_event_type;   // a batch holding this type is refused whole with 422
  int retry_after_s = 1;
};

struct SimulatorOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<std::string> enrolment_codes;  // valid one-time codes
  FaultPlan faults;
  std::uint32_t seed = 1;
  std::size_t max_body_bytes = 8 * 1024 * 1024;       // compressed request bodies
  std::size_t max_inflated_bytes = 64 * 1024 * 1024;  // after gunzip
  // brand IT's Ed25519 key (base64 of the 32-byte seed) for signing remote
  // configurations (push_config, POST /admin/stores/{id}/config); empty: none.
  std::string config_signing_key;
  std::string config_key_id = "brand-key-1";
};

struct ReceivedEvent {
  std::string id;
  std::int64_t seq = 0;
  std::string type;
  std::string subject;
  nlohmann::json payload;
};

class CloudSimulator {
 public:
  CloudSimulator(boost::asio::io_context& io, SimulatorOptions options);
  ~CloudSimulator();
  Expected<std::uint16_t, std::string> start();
  void stop();

  // Adds a command to a store's feed; returns its id.
  std::string enqueue(const std::string& store_id, const std::string& type, nlohmann::json payload);
  // Signs `document` ({"version": N, "settings": {...}, ...}) with the configured brand key
  // and adds it to the store's feed as config.desired; returns the command id.
  Expected<std::string, std::string> push_config(const std::string& store_id,
                                                 const nlohmann::json& document);
  void set_faults(const FaultPlan& faults);
  // Refuses every request (connection reset) for the next `seconds`.
  void go_down_for(int seconds);

  std::vector<ReceivedEvent> events(const std::string& store_id) const;
  std::int64_t duplicate_deliveries(const std::string& store_id) const;
  std::int64_t heartbeats(const std::string& store_id) const;
  nlohmann::json last_heartbeat(const std::string& store_id) const;
  std::int64_t requests_served() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::sync
