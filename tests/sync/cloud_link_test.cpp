// The agent's cloud link against the reference cloud simulator, both on one io_context
// and talking real HTTP over loopback: enrolment, exactly-once commands and events
// through outages and injected faults, poison commands, snapshots, dead letters.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <set>

#include "sync/cloud_link.hpp"
#include "sync/cloud_simulator.hpp"
#include "sync/components.hpp"
#include "test_support.hpp"

using namespace fulfil;
using agent::DeliveryMethod;
using nlohmann::json;

namespace {

const std::string kStore = "store-t1";

struct Harness {
  boost::asio::io_context io{1};
  test::TestStore store = test::open_test_store();
  sync::CloudSimulator sim;
  std::unique_ptr<sync::CloudLink> link;
  std::uint16_t port = 0;

  explicit Harness(sync::FaultPlan faults = {})
      : sim(io, [&] {
          sync::SimulatorOptions o;
          o.enrolment_codes = {"CODE-1"};
          o.faults = faults;
          o.seed = 42;
          return o;
        }()) {
    auto p = sim.start();
    REQUIRE(p.has_value());
    port = *p;
    test::seed_catalog(*store, 5, 100);
    link = std::make_unique<sync::CloudLink>(io, *store, options());
  }

  sync::CloudLinkOptions options() const {
    sync::CloudLinkOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port);
    o.store_id = kStore;
    o.enrolment_code = "CODE-1";
    o.credential_path = store.dir->path() + "/device-credential.json";
    o.agent_version = "test";
    o.batch_size = 50;
    o.feed_wait = std::chrono::seconds(1);
    o.heartbeat_every = std::chrono::seconds(1);
    o.request_timeout = std::chrono::milliseconds(3000);
    o.backoff_initial = std::chrono::milliseconds(20);
    o.backoff_max = std::chrono::milliseconds(300);
    return o;
  }

  template <class P>
  bool run_until(P done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  std::int64_t pending() { return store->outbox().stats().pending; }
  std::int64_t outbox_total() { return test::count_rows(store->db(), "outbox"); }
  bool drained() {
    return pending() == 0 &&
           sim.events(kStore).size() ==
               static_cast<std::size_t>(outbox_total() - store->outbox().stats().dead);
  }

  std::string route(const std::string& id,
                    std::vector<std::pair<std::string, std::int64_t>> lines) {
    return sim.enqueue(kStore, "order.routed",
                       sync::routed_order_json(test::make_order(id, DeliveryMethod::ship, lines)));
  }

  void work_on(const std::string& id) {
    auto ctx = test::ctx(agent::now_ms());
    auto& o = store->orders();
    REQUIRE(o.accept(id, ctx));
    REQUIRE(o.start_picking(id, ctx));
    const auto order = *o.find(id);
    agent::Package p{1, "BOX", 400, {}};
    for (const auto& l : order.lines) {
      REQUIRE(o.pick_item(id, l.sku, l.quantity, ctx));
      p.items.push_back({l.line_no, l.quantity});
    }
    REQUIRE(o.complete_picking(id, ctx));
    REQUIRE(o.pack(id, {p}, ctx));
    REQUIRE(o.ship(id, "DHL", "T-" + id, ctx));
    link->outbox_changed();
  }

  // Every event the store committed is at the cloud exactly once, in sequence order.
  void check_exactly_once() {
    auto received = sim.events(kStore);
    std::set<std::string> ids;
    for (const auto& e : received) CHECK(ids.insert(e.id).second);
    CHECK(received.size() == static_cast<std::size_t>(outbox_total()));
    auto s = store->db().prepare("SELECT event_id FROM outbox WHERE state != 'sent'");
    CHECK_FALSE(s.step());
    for (std::size_t i = 1; i < received.size(); ++i) CHECK(received[i - 1].seq < received[i].seq);
  }
};

}  // namespace

TEST_CASE("enrolment stores a 0600 credential; commands apply once; events arrive once") {
  Harness h;
  h.sim.enqueue(kStore, "catalog.upsert",
                {{"items",
                  {{{"sku", "NEW-1"},
                    {"title", "New thing"},
                    {"bin", "Q1"},
                    {"barcodes", {test::sample_gtin13(900)}}}}}});
  h.route("FO-A", {{"SKU-0001", 2}});
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->orders().find("FO-A").has_value() && h.drained(); }));
  struct stat st {};
  REQUIRE(::stat((h.store.dir->path() + "/device-credential.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(h.store->inventory().sku_for_barcode(test::sample_gtin13(900)) ==
        std::optional<std::string>("NEW-1"));
  h.work_on("FO-A");
  REQUIRE(h.run_until([&] { return h.drained(); }));
  h.check_exactly_once();
  CHECK(h.link->status().events_sent == h.outbox_total());
  REQUIRE(h.run_until([&] { return h.sim.heartbeats(kStore) > 0; }));
  CHECK(h.sim.last_heartbeat(kStore)["agent_version"] == "test");
  CHECK(h.sim.last_heartbeat(kStore)["outbox"]["pending"].is_number());
}

TEST_CASE("an outage while the store keeps working: afterwards every event once, in order") {
  Harness h;
  for (int i = 0; i < 5; ++i) h.route("FO-O" + std::to_string(i), {{"SKU-0002", 1}});
  h.link->start();
  REQUIRE(h.run_until(
      [&] { return h.store->orders().list(agent::OrderState::routed, 100).size() == 5; }));
  h.sim.go_down_for(2);
  const auto down_at = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) h.work_on("FO-O" + std::to_string(i));
  REQUIRE(h.store->inventory().adjust({"SKU-0003", agent::AdjustmentKind::receipt, 4, ""},
                                      test::ctx(agent::now_ms())));
  h.link->outbox_changed();
  h.io.run_for(std::chrono::milliseconds(500));
  CHECK(h.pending() > 0);  // nothing gets through while the cloud is down
  REQUIRE(h.run_until([&] { return h.drained(); }, std::chrono::seconds(30)));
  CHECK(std::chrono::steady_clock::now() - down_at >= std::chrono::seconds(2));
  h.check_exactly_once();
  CHECK(h.link->status().upload_failures == 0);
}

TEST_CASE("with ~20% injected faults and duplicate feed pages: commands once, events once") {
  sync::FaultPlan faults;
  faults.error_rate = 0.08;
  faults.reset_rate = 0.06;
  faults.truncate_rate = 0.06;
  faults.duplicate_feed_rate = 0.4;
  faults.out_of_order_acks = true;
  faults.retry_after_s = 0;
  Harness h(faults);
  auto o = h.options();
  o.batch_size = 4;
  o.feed_page_size = 3;
  h.link = std::make_unique<sync::CloudLink>(h.io, *h.store, o);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    ids.push_back("FO-F" + std::to_string(i));
    h.route(ids.back(), {{"SKU-000" + std::to_string(1 + i % 5), 1}});
  }
  h.link->start();
  REQUIRE(h.run_until(
      [&] { return h.store->orders().list(agent::OrderState::routed, 100).size() == 30; },
      std::chrono::seconds(60)));
  for (int i = 0; i < 30; i += 3) h.work_on(ids[static_cast<std::size_t>(i)]);
  REQUIRE(h.run_until([&] { return h.drained(); }, std::chrono::seconds(60)));
  h.check_exactly_once();
  CHECK(test::count_rows(h.store->db(), "inbox") == 30);
  CHECK(test::count_rows(h.store->db(), "fulfilment_order") == 30);
  auto received = h.sim.events(kStore);
  int order_received = 0;
  for (const auto& e : received) order_received += e.type == "order.received";
  CHECK(order_received == 30);
  CHECK(test::invariant_violations(h.store->db()).empty());
  MESSAGE("simulator answered " << h.sim.requests_served() << " requests; "
                                << h.sim.duplicate_deliveries(kStore)
                                << " duplicate event deliveries");
  CHECK(h.sim.requests_served() > 30);
}

TEST_CASE("poison commands are rejected, reported, and do not stall the feed") {
  Harness h;
  h.sim.enqueue(kStore, "order.routed", {{"id", "FO-BAD"}, {"lines", "not a list"}});
  h.sim.enqueue(kStore, "order.teleported", {{"id", "x"}});
  h.route("FO-UNKNOWN-SKU", {{"NO-SUCH", 1}});
  h.sim.enqueue(
      kStore, "catalog.upsert",
      {{"items", {{{"sku", "OK-1"}, {"title", "fine"}}, {{"sku", "BAD"}, {"title", ""}}}}});
  h.route("FO-GOOD", {{"SKU-0001", 1}});
  h.link->start();
  REQUIRE(
      h.run_until([&] { return h.store->orders().find("FO-GOOD").has_value() && h.drained(); }));
  std::map<std::string, std::string> rejected;
  int rejections = 0;
  for (const auto& e : h.sim.events(kStore))
    if (e.type == "command.rejected") {
      ++rejections;
      rejected[e.payload["command_type"]] += e.payload["reason"].get<std::string>() + "; ";
    }
  CHECK(rejections == 4);
  CHECK(rejected["order.routed"].find("payload.delivery_method: missing") != std::string::npos);
  CHECK(rejected["order.routed"].find("unknown SKU NO-SUCH") != std::string::npos);
  CHECK(rejected["order.teleported"].find("unknown command type") != std::string::npos);
  CHECK(rejected["catalog.upsert"].find("payload.items[1]") != std::string::npos);
  CHECK_FALSE(h.store->inventory().level("OK-1").has_value());  // all or nothing
  CHECK_FALSE(h.store->orders().find("FO-UNKNOWN-SKU").has_value());
  CHECK(test::count_rows(h.store->db(), "inbox") == 5);
}

TEST_CASE("a snapshot arriving while local movements are unacknowledged gives the right stock") {
  Harness h;
  h.link->start();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  const auto watermark = h.store->outbox().stats().last_seq;  // the cloud has all of these
  h.sim.go_down_for(60);
  auto ctx = test::ctx(agent::now_ms());
  REQUIRE(h.store->inventory().adjust({"SKU-0004", agent::AdjustmentKind::correction, -7, "lost"},
                                      ctx));
  REQUIRE(h.store->returns().receive(
      {std::nullopt, {{"SKU-0004", 2, agent::Disposition::restock, ""}}, ""}, ctx));
  CHECK(h.store->inventory().level("SKU-0004")->on_hand == 95);
  h.sim.go_down_for(0);
  h.sim.enqueue(
      kStore, "inventory.snapshot",
      {{"watermark_seq", watermark}, {"items", {{{"sku", "SKU-0004"}, {"on_hand", 120}}}}});
  REQUIRE(
      h.run_until([&] { return test::count_rows(h.store->db(), "inbox") == 1 && h.drained(); }));
  CHECK(h.store->inventory().level("SKU-0004")->on_hand == 120 - 7 + 2);
  h.check_exactly_once();
}

TEST_CASE("events the cloud refuses go to dead letters; the rest still flow") {
  sync::FaultPlan faults;
  faults.reject_event_type = "stock.adjusted";
  Harness h(faults);
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->outbox().stats().pending == 0; }));
  const auto dead_before = h.store->outbox().stats().dead;
  CHECK(dead_before == 5);  // the seeded receipts
  h.route("FO-D", {{"SKU-0001", 1}});
  REQUIRE(h.run_until([&] { return h.store->orders().find("FO-D").has_value(); }));
  REQUIRE(h.run_until([&] { return h.store->outbox().stats().pending == 0; }));
  CHECK(h.store->outbox().dead(10).size() == 5);
  CHECK(h.store->outbox().dead(10).front().type == "stock.adjusted");
  int received = 0;
  for (const auto& e : h.sim.events(kStore)) received += e.type == "order.received";
  CHECK(received == 1);
  REQUIRE(h.run_until([&] {
    auto hb = h.sim.last_heartbeat(kStore);
    return hb.is_object() && hb["outbox"]["dead"] == 5;
  }));
}

TEST_CASE("a feed page over the response limit is fetched in smaller pages") {
  Harness h;
  auto o = h.options();
  o.http.max_response_bytes = 3000;
  o.feed_page_size = 50;
  h.link = std::make_unique<sync::CloudLink>(h.io, *h.store, o);
  for (int i = 0; i < 20; ++i) h.route("FO-L" + std::to_string(i), {{"SKU-0001", 1}});
  h.link->start();
  REQUIRE(h.run_until([&] { return test::count_rows(h.store->db(), "inbox") == 20; }));
  CHECK(test::count_rows(h.store->db(), "fulfilment_order") == 20);
}

TEST_CASE("a batch the cloud refuses whole is split until the event at fault is found") {
  sync::FaultPlan faults;
  faults.poison_event_type = "return.received";
  Harness h(faults);
  auto ctx = test::ctx(agent::now_ms());
  for (int i = 0; i < 6; ++i)
    REQUIRE(h.store->inventory().adjust({"SKU-0001", agent::AdjustmentKind::receipt, 1, ""}, ctx));
  REQUIRE(h.store->returns().receive(
      {std::nullopt, {{"SKU-0002", 1, agent::Disposition::restock, ""}}, ""}, ctx));
  for (int i = 0; i < 6; ++i)
    REQUIRE(h.store->inventory().adjust({"SKU-0003", agent::AdjustmentKind::receipt, 1, ""}, ctx));
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->outbox().stats().pending == 0; }));
  auto dead = h.store->outbox().dead(10);
  REQUIRE(dead.size() == 1);
  CHECK(dead.front().type == "return.received");
  CHECK(h.sim.events(kStore).size() == static_cast<std::size_t>(h.outbox_total() - 1));
}

TEST_CASE("carrier labels from the cloud are kept byte for byte; bad ones are rejected") {
  Harness h;
  h.route("FO-LBL", {{"SKU-0001", 1}});
  const std::string zpl = "^XA^FO50,50^FDCarrier label \x01 bytes^FS^XZ";
  // "^XA^FO50,50^FDCarrier label \x01 bytes^FS^XZ" in base64
  const std::string b64 = "XlhBXkZPNTAsNTBeRkRDYXJyaWVyIGxhYmVsIAEgYnl0ZXNeRlNeWFo=";
  h.sim.enqueue(kStore, "shipping_label.issued",
                {{"order_id", "FO-LBL"},
                 {"package_no", 1},
                 {"carrier", "DHL"},
                 {"tracking", "00340434161234567890"},
                 {"format", "zpl"},
                 {"data_base64", b64}});
  h.sim.enqueue(kStore, "shipping_label.issued",
                {{"order_id", "FO-LBL"}, {"format", "zpl"}, {"data_base64", "not base64!"}});
  h.sim.enqueue(kStore, "shipping_label.issued",
                {{"order_id", "FO-LBL"}, {"format", "pdf"}, {"data_base64", b64}});
  h.sim.enqueue(kStore, "shipping_label.issued",
                {{"order_id", "FO-NONE"}, {"format", "zpl"}, {"data_base64", b64}});
  h.route("FO-AFTER", {{"SKU-0001", 1}});
  h.link->start();
  REQUIRE(
      h.run_until([&] { return h.store->orders().find("FO-AFTER").has_value() && h.drained(); }));
  auto label = h.store->print_jobs().carrier_label("FO-LBL", 1);
  REQUIRE(label.has_value());
  CHECK(label->document == zpl);
  CHECK(label->tracking == "00340434161234567890");
  std::string reasons;
  for (const auto& e : h.sim.events(kStore))
    if (e.type == "command.rejected" && e.payload["command_type"] == "shipping_label.issued")
      reasons += e.payload["reason"].get<std::string>() + "; ";
  CHECK(reasons.find("payload.data_base64: expected base64") != std::string::npos);
  CHECK(reasons.find("the document is not a PDF") != std::string::npos);
  CHECK(reasons.find("no fulfilment order FO-NONE") != std::string::npos);
}
