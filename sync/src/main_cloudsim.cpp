// fulfil-cloudsim: the reference cloud for fulfild, over real HTTP on loopback.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

#include "config/clock.hpp"
#include "config/log.hpp"
#include "demo/demo.hpp"
#include "domain/order_codec.hpp"
#include "sync/cloud_simulator.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: fulfil-cloudsim [OPTIONS]

The reference implementation of the cloud side of the fulfild protocol
(sync/PROTOCOL.md), for tests, demos and benchmarks. Listens on 127.0.0.1.

Options:
  --listen PORT              port on 127.0.0.1 (default 0: any free port; printed)
  --enrolment-code CODE      a valid one-time enrolment code (repeatable)
  --scenario FILE            JSON: {"stores": {"STORE": [{"type": ..., "payload": ...}]}}
  --orders-per-minute N      route generated demo orders to --store at this rate
  --store ID                 store for generated orders (default store-0001)
  --error-rate R             share of requests answered 500/503 with Retry-After
  --retry-after S            the Retry-After value sent (default 1)
  --reset-rate R             share of requests whose connection is reset
  --truncate-rate R          share of responses truncated half-way
  --duplicate-rate R         share of feed pages repeating earlier commands
  --out-of-order-acks        acknowledge event ids in shuffled order
  --latency-ms MS            delay every answer
  --down-for S               refuse every connection for the first S seconds
  --seed N                   random seed for the faults (default 1)
  --config-signing-key FILE  brand IT's Ed25519 private key (base64 seed, as `fulfilctl
                             config keygen` prints it) to sign configurations posted to
                             /admin/stores/ID/config
  --help

Admin endpoints (no authentication; loopback only):
  GET  /admin/stores/ID/events     events received, once per id, with duplicates count
  GET  /admin/stores/ID/stats      counts and the last heartbeat
  POST /admin/stores/ID/commands   {"type": ..., "payload": ...} or a list: add to the feed
  POST /admin/down                 {"seconds": N}: an outage starting now
)";

double number(const std::string& flag, const std::string& v) {
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    std::cerr << "fulfil-cloudsim: " << flag << " needs a number, got '" << v << "'\n";
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  fulfil::log::install_terminate_handler("cloudsim");
  fulfil::sync::SimulatorOptions o;
  std::string scenario, store = "store-0001";
  double orders_per_minute = 0;
  int down_for = 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--out-of-order-acks") {
      o.faults.out_of_order_acks = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "fulfil-cloudsim: unknown option or missing value: " << a << "\n";
      return 2;
    }
    const std::string v = args[++i];
    if (a == "--listen")
      o.port = static_cast<std::uint16_t>(number(a, v));
    else if (a == "--enrolment-code")
      o.enrolment_codes.push_back(v);
    else if (a == "--scenario")
      scenario = v;
    else if (a == "--orders-per-minute")
      orders_per_minute = number(a, v);
    else if (a == "--store")
      store = v;
    else if (a == "--error-rate")
      o.faults.error_rate = number(a, v);
    else if (a == "--retry-after")
      o.faults.retry_after_s = static_cast<int>(number(a, v));
    else if (a == "--reset-rate")
      o.faults.reset_rate = number(a, v);
    else if (a == "--truncate-rate")
      o.faults.truncate_rate = number(a, v);
    else if (a == "--duplicate-rate")
      o.faults.duplicate_feed_rate = number(a, v);
    else if (a == "--latency-ms")
      o.faults.latency_ms = static_cast<int>(number(a, v));
    else if (a == "--down-for")
      down_for = static_cast<int>(number(a, v));
    else if (a == "--seed")
      o.seed = static_cast<std::uint32_t>(number(a, v));
    else if (a == "--config-signing-key") {
      std::ifstream in(v);
      if (!(in >> o.config_signing_key)) {
        std::cerr << "fulfil-cloudsim: cannot read a key from " << v << "\n";
        return 2;
      }
    } else {
      std::cerr << "fulfil-cloudsim: unknown option " << a << "\n";
      return 2;
    }
  }
  boost::asio::io_context io(1);
  fulfil::sync::CloudSimulator sim(io, o);
  if (!scenario.empty()) {
    std::ifstream in(scenario);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("stores") || !j["stores"].is_object()) {
      std::cerr << "fulfil-cloudsim: " << scenario
                << ": expected {\"stores\": {\"STORE\": [commands]}}\n";
      return 2;
    }
    for (const auto& [id, commands] : j["stores"].items())
      for (const auto& c : commands)
        sim.enqueue(id, c.value("type", ""), c.value("payload", nlohmann::json::object()));
  }
  auto port = sim.start();
  if (!port) {
    std::cerr << "fulfil-cloudsim: " << port.error() << "\n";
    return 1;
  }
  if (down_for > 0) sim.go_down_for(down_for);
  std::cerr << "fulfil-cloudsim listening on 127.0.0.1:" << *port << std::endl;

  boost::asio::steady_timer generator(io);
  std::mt19937 rng(o.seed);
  int generated = 0;
  std::function<void()> next = [&] {
    if (orders_per_minute <= 0) return;
    generator.expires_after(
        std::chrono::milliseconds(static_cast<long>(60000 / orders_per_minute)));
    generator.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      auto order = fulfil::demo::demo_order(rng, ++generated, fulfil::config::now_ms());
      order.id = "FO-SIM-" + std::to_string(generated);
      sim.enqueue(store, "order.routed", fulfil::agent::routed_order_json(order));
      next();
    });
  };
  next();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    generator.cancel();
    sim.stop();
    io.stop();
  });
  io.run();
  return 0;
}
