#include "demo_cloud.hpp"

#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "config/clock.hpp"
#include "config/log.hpp"
#include "demo/demo.hpp"
#include "domain/cloud_commands.hpp"
#include "domain/order_codec.hpp"
#include "sync/cloud_simulator.hpp"
#include "sync/components.hpp"

namespace fulfil::demo {
namespace {

namespace asio = boost::asio;
using sync::CloudSimulator;

// Routes an order to the store now and then: the first few quickly, then every 45 s.
class DemoCloudComponent : public agent::DaemonComponent {
 public:
  // Numbering continues after the orders already in the store (a restarted demo keeps its
  // state directory; ids must not repeat).
  DemoCloudComponent(asio::io_context& io, std::string store_id, CloudSimulator& sim,
                     int orders_so_far, int first_orders)
      : sim_(sim),
        store_id_(std::move(store_id)),
        timer_(io),
        first_(orders_so_far),
        orders_(orders_so_far),
        quick_(first_orders) {}
  std::string name() const override { return "demo_cloud"; }
  void start() override { schedule(); }
  void stop() override {
    timer_.cancel();
    sim_.stop();
  }

 private:
  CloudSimulator& sim_;
  std::string store_id_;
  asio::steady_timer timer_;
  std::mt19937 rng_{20261124};
  int first_ = 0;
  int orders_ = 0;
  int quick_ = 5;

  void schedule() {
    timer_.expires_after(std::chrono::seconds(orders_ - first_ < quick_ ? 1 : 45));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto order = demo_order(rng_, ++orders_, config::now_ms());
      sim_.enqueue(store_id_, "order.routed", agent::routed_order_json(order));
      schedule();
    });
  }
};

// One inbound shipment to try receiving on (README): an ASN from the brand's warehouse,
// found by scanning its id, its label or its SSCC. Sent once per state directory: a
// restarted demo keeps the shipment it already has, received in part or closed.
void send_demo_shipment(CloudSimulator& sim, agent::Store& store, const std::string& store_id) {
  const std::string id = "ASN-DEMO-1";
  if (store.receiving().find(id)) return;
  nlohmann::json lines = nlohmann::json::array({{{"sku", "SKU-10001"}, {"quantity", 6}},
                                                {{"sku", "SKU-10002"}, {"quantity", 4}},
                                                {{"sku", "SKU-10010"}, {"quantity", 12}}});
  sim.enqueue(store_id, "shipment.inbound",
              {{"shipment_id", id},
               {"kind", "asn"},
               {"source", "Central warehouse Kassel"},
               {"barcodes", {"DEMO-ASN-1", "031234560000000015"}},
               {"lines", lines},
               {"expected_at", config::now_ms() + 2 * 3600 * 1000}});
}

// One transfer to try (README): the brand asks the store to send stock to another of its
// stores; it is accepted, picked, packed and shipped like a ship order. Sent once per
// state directory, as the shipment is.
void send_demo_transfer(CloudSimulator& sim, agent::Store& store, const std::string& store_id) {
  agent::FulfilmentOrder t;
  t.id = "TRF-DEMO-1";
  if (store.orders().find(t.id)) return;
  t.kind = agent::OrderKind::transfer;
  t.destination_store = "STORE-DEMO-2";
  t.customer.name = "Riverside";
  t.address = {"Riverside store, goods in", "Uferstrasse 12", "", "Kassel", "", "34117", "DE"};
  t.lines = {{1, "SKU-10003", 2, 0, 0, 0, ""}, {2, "SKU-10005", 1, 0, 0, 0, ""}};
  t.notes = "Riverside ran out before the weekend";
  // Longer than an order's accept SLA: there is time to find it in the README.
  t.accept_by = config::now_ms() + 4 * 3600 * 1000;
  t.ship_by = config::now_ms() + 24 * 3600 * 1000;
  sim.enqueue(store_id, "transfer.requested", agent::transfer_request_json(t));
}

class OwnedSimulator : public agent::DaemonComponent {
 public:
  explicit OwnedSimulator(std::unique_ptr<CloudSimulator> sim) : sim_(std::move(sim)) {}
  std::string name() const override { return "demo_cloud_server"; }
  void start() override {}
  void stop() override { sim_->stop(); }
  CloudSimulator& sim() { return *sim_; }

 private:
  std::unique_ptr<CloudSimulator> sim_;
};

}  // namespace

Expected<std::vector<std::unique_ptr<agent::DaemonComponent>>, std::string> make_demo_components(
    asio::io_context& io, agent::Store& store, const config::Settings& s,
    const std::string& agent_version, int first_orders) {
  if (auto ok = seed_demo_store(store, config::now_ms()); !ok)
    return unexpected("cannot seed the demo store: " + ok.error().message);
  if (!s.sync.cloud_url.empty()) return sync::make_cloud_components(io, store, s, agent_version);

  std::vector<std::unique_ptr<agent::DaemonComponent>> out;
  sync::SimulatorOptions sim_options;
  sim_options.enrolment_codes = {"DEMO-ENROL"};
  std::ifstream(s.storage.state_dir + "/" + kBrandKeyFile) >> sim_options.config_signing_key;
  auto owned = std::make_unique<OwnedSimulator>(std::make_unique<CloudSimulator>(io, sim_options));
  auto port = owned->sim().start();
  if (!port) {
    log::error("demo", "cannot start the demo cloud", {{"error", port.error()}});
    return out;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  log::info("demo", "reference cloud simulator running",
            {{"url", url},
             {"push_config", "POST " + url + "/admin/stores/" + s.store.id +
                                 "/config {\"version\": N, \"settings\": {...}}"}});
  // The demo's cloud lives only as long as the process: a restart on the same state
  // directory enrols again and reads the new cloud's feed from its start.
  sync::CloudOverride cloud{url, "DEMO-ENROL", s.storage.state_dir + "/demo-cloud-credential.json",
                            std::chrono::seconds(20)};
  std::error_code ignored;
  std::filesystem::remove(cloud.credential_path, ignored);
  if (auto reset = agent::CloudCommands(store).advance_cursor(""); !reset)
    log::warn("demo", "cannot reset the feed cursor", {{"error", reset.error().message}});
  int orders_so_far = 0;
  for (const auto& [state, n] : store.orders().count_by_state())
    orders_so_far += static_cast<int>(n);
  send_demo_shipment(owned->sim(), store, s.store.id);
  send_demo_transfer(owned->sim(), store, s.store.id);
  auto generator = std::make_unique<DemoCloudComponent>(io, s.store.id, owned->sim(), orders_so_far,
                                                        first_orders);
  out.push_back(std::move(owned));
  out.push_back(std::move(generator));
  auto link = sync::make_cloud_components(io, store, s, agent_version, cloud);
  if (!link) return unexpected(link.error());
  for (auto& c : *link) out.push_back(std::move(c));
  return out;
}

}  // namespace fulfil::demo
