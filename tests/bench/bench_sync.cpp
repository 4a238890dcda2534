// Draining a day offline: 100,000 queued events delivered to the reference cloud over
// loopback by the cloud link (read from SQLite, gzip, POST, acknowledgement committed),
// against raw libcurl POSTing the same pre-built batches on one keep-alive connection, in
// the same run. The simulator runs on its own thread, as a separate cloud would.
//   bench_sync WORK_DIR [EVENTS]
#include <curl/curl.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "domain/store.hpp"
#include "sync/cloud_link.hpp"
#include "sync/cloud_simulator.hpp"
#include "sync/event_batch.hpp"

using namespace fulfil;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::size_t discard(char*, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(size * n, ' ');
  return size * n;
}

std::string enrol_raw(CURL* curl, int port, const std::string& store) {
  std::string body = "{\"enrolment_code\":\"RAW\",\"store_id\":\"" + store + "\"}", out;
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  h = curl_slist_append(h, "Fulfil-Protocol: 1");
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/enrolments";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* o) {
        static_cast<std::string*>(o)->append(d, s * n);
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_perform(curl);
  curl_slist_free_all(h);
  return nlohmann::json::parse(out)["device_token"];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string work = std::string(argc > 1 ? argv[1] : ".") + "/bench-sync";
  const int total = argc > 2 ? std::atoi(argv[2]) : 100000;
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);

  // The cloud, on its own thread.
  boost::asio::io_context cloud_io(1);
  sync::SimulatorOptions so;
  so.enrolment_codes = {"AGENT", "RAW"};
  sync::CloudSimulator sim(cloud_io, so);
  const int port = *sim.start();
  std::thread cloud([&] {
    auto guard = boost::asio::make_work_guard(cloud_io);
    cloud_io.run();
  });

  // A day's backlog.
  auto store = agent::Store::open({work + "/fulfild.db", "quick", 5000}, agent::OrderPolicy{});
  agent::Store& s = **store;
  {
    agent::Transaction tx(s.db());
    for (int i = 0; i < total; ++i)
      s.outbox().append("stock.adjusted", "SKU-" + std::to_string(i % 3000),
                        {{"sku", "SKU-" + std::to_string(i % 3000)},
                         {"kind", "receipt"},
                         {"quantity", 1 + i % 7},
                         {"actor", "terminal:counter-1"},
                         {"movements", {{{"sku", "SKU-x"}, {"bucket", "on_hand"}, {"delta", 1}}}}},
                        agent::now_ms());
    tx.commit();
  }
  // The same batches, pre-built for the raw baseline.
  std::vector<std::string> batches;
  for (std::int64_t after = 0;;) {
    auto events = s.outbox().since(after, 500);
    if (events.empty()) break;
    after = events.back().seq;
    batches.push_back(*sync::gzip(sync::batch_body("raw-store", events)));
  }

  // 1. The cloud link drains the outbox.
  boost::asio::io_context io(1);
  sync::CloudLinkOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.store_id = "bench-store";
  o.enrolment_code = "AGENT";
  o.credential_path = work + "/credential.json";
  o.batch_size = 500;
  o.feed_wait = std::chrono::seconds(30);
  o.heartbeat_every = std::chrono::seconds(3600);
  sync::CloudLink link(io, s, o);
  const auto t0 = Clock::now();
  link.start();
  // Watched through the link's own count: counting the backlog in SQLite every few ms
  // would charge the drain with the watching (a count(*) over 100k pending rows).
  while (link.status().events_sent < total && since(t0) < 600)
    io.run_for(std::chrono::milliseconds(5));
  const double agent_s = since(t0);
  link.stop();

  // 2. Raw libcurl: the same bytes, one keep-alive connection, nothing else.
  CURL* curl = curl_easy_init();
  const std::string token = enrol_raw(curl, port, "raw-store");
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  h = curl_slist_append(h, "Content-Encoding: gzip");
  h = curl_slist_append(h, "Fulfil-Protocol: 1");
  h = curl_slist_append(h, ("Authorization: Bearer " + token).c_str());
  const std::string url =
      "http://127.0.0.1:" + std::to_string(port) + "/v1/stores/raw-store/events";
  std::string sink;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  const auto t1 = Clock::now();
  for (const auto& b : batches) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(b.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b.data());
    curl_easy_perform(curl);
  }
  const double raw_s = since(t1);
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);

  cloud_io.stop();
  cloud.join();
  const auto delivered = sim.events("bench-store").size();
  const auto raw_delivered = sim.events("raw-store").size();
  std::printf("\nfulfild sync benchmark: drain %d queued events to the simulator on loopback\n",
              total);
  std::printf("| path                                   | seconds | events/s  | delivered |\n");
  std::printf("|----------------------------------------|---------|-----------|-----------|\n");
  std::printf("| cloud link (SQLite -> gzip -> ack)     | %7.2f | %9.0f | %9zu |\n", agent_s,
              total / agent_s, delivered);
  std::printf("| raw libcurl, pre-built batches         | %7.2f | %9.0f | %9zu |\n", raw_s,
              total / raw_s, raw_delivered);
  std::printf("| cloud link / raw libcurl               |         | %8.0f%% |           |\n",
              100 * raw_s / agent_s);
  std::filesystem::remove_all(work);
  if (delivered != static_cast<std::size_t>(total)) {
    std::printf("FAIL: the cloud link delivered %zu of %d events\n", delivered, total);
    return 1;
  }
  // The goal is half of raw libcurl's rate (52% to 82% on a loaded machine, 29% to 33%
  // under qemu-user before the drain overlapped reads with the cloud); the limit, a quarter,
  // sits below that noise and still catches a return to a read and a write per event.
  if (agent_s > 4 * raw_s + 1) {
    std::printf("FAIL: draining runs below a quarter of raw libcurl's rate\n");
    return 1;
  }
  return 0;
}
