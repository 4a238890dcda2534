// The agent's cloud link against the reference cloud simulator, both on one io_context
// and talking real HTTP over loopback: enrolment, exactly-once commands and events
// through outages and injected faults, poison commands, snapshots, dead letters.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "config/settings.hpp"
#include "domain/cloud_commands.hpp"
#include "domain/order_codec.hpp"

#include "sync/cloud_link.hpp"
#include "sync/cloud_simulator.hpp"
#include "sync/components.hpp"
#include "sync/recovery.hpp"
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
    o.database_id = store.store->identity().database_id;
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
                       agent::routed_order_json(test::make_order(id, DeliveryMethod::ship, lines)));
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

TEST_CASE("the cloud takes a waiting pickup's events: the notice again, the return to stock") {
  Harness h;
  h.sim.enqueue(kStore, "order.routed",
                agent::routed_order_json(
                    test::make_order("FO-WAIT", DeliveryMethod::pickup, {{"SKU-0002", 1}})));
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->orders().find("FO-WAIT").has_value(); }));
  auto& o = h.store->orders();
  const auto ctx = test::ctx(agent::now_ms());
  REQUIRE(o.accept("FO-WAIT", ctx));
  REQUIRE(o.start_picking("FO-WAIT", ctx));
  REQUIRE(o.pick_item("FO-WAIT", "SKU-0002", 1, ctx));
  REQUIRE(o.complete_picking("FO-WAIT", ctx));
  REQUIRE(o.ready_for_pickup("FO-WAIT", "P-01", ctx));
  REQUIRE(o.send_pickup_notice("FO-WAIT", ctx));
  const std::int64_t weeks_later = ctx.now_ms + 30LL * 24 * 3600 * 1000;
  REQUIRE(o.return_uncollected("FO-WAIT", test::ctx(weeks_later)));
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  h.check_exactly_once();
  std::map<std::string, json> by_type;
  for (const auto& e : h.sim.events(kStore)) by_type[e.type] = e.payload;
  REQUIRE(by_type.count("order.pickup_notice_requested") == 1);
  CHECK(by_type["order.pickup_notice_requested"]["notices"] == 1);
  REQUIRE(by_type.count("order.returned_uncollected") == 1);
  CHECK(by_type["order.returned_uncollected"]["reason"] == "not_collected");
  CHECK(by_type["order.returned_uncollected"]["state"] == "cancelled");
  CHECK(h.store->outbox().stats().dead == 0);
}

TEST_CASE("a transfer the cloud asks for is shipped; the cloud hears it as a transfer") {
  Harness h;
  agent::FulfilmentOrder t;
  t.id = "TRF-E2E";
  t.kind = agent::OrderKind::transfer;
  t.destination_store = "STORE-042";
  t.customer.name = "Riverside";
  t.address = {"", "Uferstrasse 12", "", "Kassel", "", "34117", "DE"};
  t.lines = {{1, "SKU-0003", 4, 0, 0, 0, ""}};
  h.sim.enqueue(kStore, "transfer.requested", agent::transfer_request_json(t));
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->orders().find("TRF-E2E").has_value(); }));
  h.work_on("TRF-E2E");
  REQUIRE(h.run_until([&] { return h.drained(); }));
  h.check_exactly_once();
  CHECK(h.store->inventory().level("SKU-0003")->on_hand == 96);
  std::map<std::string, json> by_type;
  for (const auto& e : h.sim.events(kStore)) by_type[e.type] = e.payload;
  REQUIRE(by_type.count("order.shipped") == 1);
  json& shipped = by_type["order.shipped"];
  CHECK(shipped["kind"] == "transfer");
  CHECK(shipped["destination_store"]["id"] == "STORE-042");
  CHECK(shipped["tracking"] == "T-TRF-E2E");
  CHECK(shipped["movements"][0]["kind"] == "transfer_out");
  CHECK(shipped["movements"][0]["reason"] == "transfer out: STORE-042");
  CHECK(by_type["order.received"]["kind"] == "transfer");
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

// --- lost events: a database restored from an older copy (issue 10) ----------------------

namespace {

// A consistent copy of the store's database now (SQLite's online backup), as a nightly
// backup or a disk image taken before a power cut would be.
void backup_database(agent::Database& db, const std::string& to) {
  sqlite3* out = nullptr;
  REQUIRE(sqlite3_open(to.c_str(), &out) == SQLITE_OK);
  sqlite3_backup* b = sqlite3_backup_init(out, "main", db.handle(), "main");
  REQUIRE(b != nullptr);
  CHECK(sqlite3_backup_step(b, -1) == SQLITE_DONE);
  sqlite3_backup_finish(b);
  sqlite3_close(out);
}

void restore_database(test::TestStore& s, const std::string& from) {
  s.store.reset();
  std::filesystem::copy_file(from, s.db_path(), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(s.db_path() + "-wal");
  std::filesystem::remove(s.db_path() + "-shm");
  s.reopen();
}

void adjust(agent::Store& store, const std::string& sku, std::int64_t delta) {
  REQUIRE(store.inventory().adjust({sku, agent::AdjustmentKind::correction, delta, "test"},
                                   test::ctx(agent::now_ms())));
}

std::int64_t on_hand(agent::Store& store, const std::string& sku) {
  return store.inventory().level(sku)->on_hand;
}

}  // namespace

TEST_CASE(
    "a restored database never reuses a sequence number: alarm, renumbering, re-based stock") {
  Harness h;
  // The cloud's view of stock starts from a snapshot it sent, which includes the seeding.
  json items = json::array();
  for (int i = 1; i <= 5; ++i)
    items.push_back({{"sku", "SKU-000" + std::to_string(i)}, {"on_hand", 100}});
  h.sim.enqueue(kStore, "inventory.snapshot",
                {{"watermark_seq", h.store->outbox().last_seq()}, {"items", items}});
  h.link->start();
  adjust(*h.store, "SKU-0001", -3);
  h.link->outbox_changed();
  const bool settled =
      h.run_until([&] { return h.drained() && on_hand(*h.store, "SKU-0001") == 97; });
  REQUIRE_MESSAGE(settled, "pending " << h.pending() << ", at the cloud "
                                      << h.sim.events(kStore).size() << " of " << h.outbox_total()
                                      << ", SKU-0001 " << on_hand(*h.store, "SKU-0001"));
  const std::string backup = h.store.dir->path() + "/backup.db";
  backup_database(h.store->db(), backup);
  const std::int64_t backed_up_seq = h.store->outbox().last_seq();
  // Work the store did after the backup, all acknowledged by the cloud...
  for (int i = 0; i < 4; ++i) adjust(*h.store, "SKU-0002", -1);
  adjust(*h.store, "SKU-0003", +5);
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  const std::int64_t cloud_highest = h.store->outbox().last_seq();
  REQUIRE(cloud_highest > backed_up_seq);
  // ... is lost: the database comes back from the backup. Before it reaches the cloud, the
  // store works on, numbering from where the backup ended.
  h.link.reset();
  restore_database(h.store, backup);
  adjust(*h.store, "SKU-0004", -2);
  adjust(*h.store, "SKU-0004", -1);
  CHECK(h.store->outbox().last_seq() <= cloud_highest);  // numbers the cloud holds
  std::set<std::string> new_ids;
  for (const auto& e : h.store->outbox().pending(10)) new_ids.insert(e.event_id);
  REQUIRE(new_ids.size() == 2);
  h.link = std::make_unique<sync::CloudLink>(h.io, *h.store, h.options());
  h.link->start();
  // The cloud refuses the reused numbers; the store renumbers above them, raises the alarm,
  // asks for a snapshot and re-bases its stock on it.
  REQUIRE(h.run_until([&] {
    return h.pending() == 0 && agent::CloudCommands(*h.store).snapshot_requested().is_null() &&
           h.store->outbox().last_repair().has_value();
  }));
  REQUIRE(h.run_until([&] { return h.pending() == 0; }));
  const auto repair = h.store->outbox().last_repair();
  CHECK(repair->cloud_highest == cloud_highest);
  CHECK(repair->local_highest == backed_up_seq + 2);
  CHECK(repair->renumbered == 2);
  // Every sequence number at the cloud is held by one event only, and the store's new
  // events came after everything the cloud had.
  std::map<std::int64_t, std::string> by_seq;
  for (const auto& e : h.sim.events(kStore)) {
    CHECK_MESSAGE(by_seq.emplace(e.seq, e.id).second, "sequence " << e.seq << " reused");
    if (new_ids.count(e.id)) CHECK(e.seq > cloud_highest);
  }
  // Stock is what it would have been without the loss: the lost movements came back
  // from the cloud's snapshot, the new ones were kept on top.
  CHECK(on_hand(*h.store, "SKU-0001") == 97);
  CHECK(on_hand(*h.store, "SKU-0002") == 96);
  CHECK(on_hand(*h.store, "SKU-0003") == 105);
  CHECK(on_hand(*h.store, "SKU-0004") == 97);
  auto settings = config::load({});
  REQUIRE(settings.has_value());
  settings->storage.state_dir = h.store.dir->path();
  bool alarmed = false;
  for (const auto& a : sync::outbox_alarms(*h.store, *settings))
    alarmed |= a.rfind("events_lost:", 0) == 0;
  CHECK(alarmed);
  // New events go on above.
  adjust(*h.store, "SKU-0005", -1);
  CHECK(h.store->outbox().last_seq() > cloud_highest + 2);
}

TEST_CASE("the cloud ahead at the heartbeat: unsent events move above it before they are sent") {
  Harness h;
  h.link->start();
  adjust(*h.store, "SKU-0001", -1);
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  const std::string backup = h.store.dir->path() + "/backup.db";
  backup_database(h.store->db(), backup);
  for (int i = 0; i < 3; ++i) adjust(*h.store, "SKU-0002", -1);
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  const std::int64_t cloud_highest = h.store->outbox().last_seq();
  h.link.reset();
  restore_database(h.store, backup);
  // The restored store learns where the cloud stands from the heartbeat's answer.
  h.link = std::make_unique<sync::CloudLink>(h.io, *h.store, h.options());
  h.link->start();
  REQUIRE(h.run_until([&] { return h.store->outbox().last_repair().has_value(); }));
  CHECK(h.store->outbox().last_repair()->renumbered == 0);
  adjust(*h.store, "SKU-0003", -1);
  CHECK(h.store->outbox().last_seq() > cloud_highest);
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.pending() == 0; }));
  std::set<std::int64_t> seqs;
  for (const auto& e : h.sim.events(kStore)) CHECK(seqs.insert(e.seq).second);
}

TEST_CASE(
    "a device credential belongs to its database: another one is refused, a legacy one adopted") {
  test::TempDir dir;
  const std::string path = dir.path() + "/device-credential.json";
  CHECK(sync::check_device_credential(path, "db-1").has_value());  // none: enrol
  std::ofstream(path) << R"({"device_token":"t","device_id":"d"})";
  CHECK(sync::check_device_credential(path, "db-1").has_value());  // legacy: bound now
  CHECK(json::parse(std::ifstream(path))["database_id"] == "db-1");
  CHECK(sync::check_device_credential(path, "db-1").has_value());
  auto other = sync::check_device_credential(path, "db-2");
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().find("was enrolled with database db-1") != std::string::npos);
  CHECK(other.error().find("move the credential aside") != std::string::npos);
  // Enrolment writes the database's id into the credential.
  Harness h;
  h.link->start();
  REQUIRE(h.run_until([&] { return h.link->status().enrolled; }));
  const auto stored = json::parse(std::ifstream(h.options().credential_path));
  CHECK(stored["database_id"] == h.store->identity().database_id);
  CHECK(stored["database_id"].get<std::string>().rfind("db-", 0) == 0);
}

TEST_CASE("last_error is cleared once the link works again") {
  Harness h;
  h.sim.go_down_for(1);
  h.link->start();
  REQUIRE(h.run_until([&] { return !h.link->status().last_error.empty(); }));
  REQUIRE(
      h.run_until([&] { return h.link->status().enrolled && h.link->status().last_sync_at > 0; }));
  REQUIRE(h.run_until([&] { return h.link->status().last_error.empty(); }));
}

TEST_CASE("a full disk pauses the feed (said as such), and it resumes when there is room") {
  Harness h;
  h.link->start();
  REQUIRE(h.run_until([&] { return h.link->status().enrolled; }));
  h.store->db().mark_disk_full();  // as the disk guard leaves it after a failed write
  h.route("FO-FULL", {{"SKU-0001", 1}});
  REQUIRE(h.run_until(
      [&] { return h.link->status().last_error == "feed paused: the local disk is full"; }));
  h.io.run_for(std::chrono::milliseconds(300));
  CHECK_FALSE(h.store->orders().find("FO-FULL").has_value());  // waiting, not failing
  h.store->db().clear_disk_full();
  REQUIRE(h.run_until([&] { return h.store->orders().find("FO-FULL").has_value(); }));
  CHECK(h.run_until([&] { return h.link->status().last_error.empty(); }));
}

TEST_CASE("classify: one recovery action for every answer the cloud can give") {
  const auto answer = [](long status, std::string body = "", std::string transport = "") {
    sync::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.transport_error = std::move(transport);
    return r;
  };
  using sync::Recovery;
  const std::string conflict = R"({"error": {"code": "sequence_conflict", "message": "x"}})";
  struct Row {
    sync::HttpResponse response;
    std::size_t batch;
    Recovery action;
  };
  const std::vector<Row> rows = {
      {answer(200), 5, Recovery::proceed},
      {answer(204), 0, Recovery::proceed},
      {answer(0, "", "connection refused"), 5, Recovery::retry},
      {answer(200, "", "timeout"), 0, Recovery::retry},
      {answer(500), 5, Recovery::retry},
      {answer(503), 1, Recovery::retry},
      {answer(429), 5, Recovery::retry},
      {answer(408), 1, Recovery::retry},
      {answer(401), 5, Recovery::re_enrol},
      {answer(401), 0, Recovery::re_enrol},
      {answer(426), 5, Recovery::fatal},
      {answer(409, conflict), 5, Recovery::renumber},
      {answer(409, conflict), 0, Recovery::retry},  // not an upload: nothing to renumber
      {answer(409, "{}"), 5, Recovery::halve_batch},
      {answer(422), 5, Recovery::halve_batch},
      {answer(413), 2, Recovery::halve_batch},
      {answer(422), 1, Recovery::dead_letter},
      {answer(400), 0, Recovery::retry},  // a feed or heartbeat has no event to set aside
  };
  for (const auto& row : rows) {
    CAPTURE(row.response.status);
    CAPTURE(row.response.transport_error);
    CAPTURE(row.batch);
    CHECK(sync::recovery_name(sync::classify(row.response, row.batch)) ==
          sync::recovery_name(row.action));
  }
}

// An acknowledgement is bookkeeping: with ack_record_delay, a small batch's is recorded by
// the next change that appends an event, in that change's transaction (no commit of its
// own), or when the link stops; meanwhile the events count as delivered. A change that
// rolls back takes nothing with it: the acknowledgement is still held and recorded later.
TEST_CASE("small batches' acknowledgements ride with the next change, or are recorded at stop") {
  Harness h;
  auto options = h.options();
  options.ack_record_delay = std::chrono::seconds(60);
  h.link = std::make_unique<sync::CloudLink>(h.io, *h.store, options);
  auto unrecorded = [&] {
    auto s = h.store->db().prepare("SELECT count(*) FROM outbox WHERE state='pending'");
    return s.step() ? s.int64(0) : -1;
  };
  const auto seeded = h.outbox_total();
  REQUIRE(seeded > 0);
  REQUIRE(seeded <= 50);  // one small batch
  h.link->start();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  CHECK(unrecorded() == seeded);  // acknowledged, held in memory
  CHECK(h.store->outbox().pending(10).empty());
  CHECK(h.store->outbox().stats().pending == 0);

  // A change rolled back does not record them.
  {
    agent::Transaction tx(h.store->db());
    REQUIRE(h.store->inventory().adjust({"SKU-0001", agent::AdjustmentKind::receipt, 1, "t"},
                                        test::ctx(agent::now_ms())));
    CHECK(unrecorded() == 1);  // inside: recorded with the change
  }
  CHECK(unrecorded() == seeded);
  // A change committed does: only its own event is unsent.
  REQUIRE(h.store->inventory().adjust({"SKU-0002", agent::AdjustmentKind::receipt, 1, "t"},
                                      test::ctx(agent::now_ms())));
  CHECK(unrecorded() == 1);
  h.link->outbox_changed();
  REQUIRE(h.run_until([&] { return h.drained(); }));
  CHECK(unrecorded() == 1);  // its acknowledgement held in turn
  h.link->stop();
  CHECK(unrecorded() == 0);
  h.check_exactly_once();
}
