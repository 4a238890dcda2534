// SD-card wear: bytes the real fulfild makes the kernel write to the device
// (/proc/PID/io write_bytes: page-cache pages it dirtied, WAL appends and checkpoints
// included) per order lifecycle and per idle hour with the reference cloud connected.
//   bench_wear WORK_DIR [ORDERS] [IDLE_SECONDS] [PAGE_SIZE]
// WORK_DIR must be a real disk: on tmpfs nothing is written back and write_bytes stays 0.
//
// Lifecycle: the cloud routes an order (feed), a terminal accepts, starts picking, picks
// both lines, completes picking, packs and ships it, and the cloud acknowledges every event; bytes
// over ORDERS orders, averaged. Idle: two windows of IDLE_SECONDS each, nothing happening in the
// store. Window A long-polls the feed every second (sync.feed_wait_s=1, no heartbeat in the
// window): all its bytes are charged to its polls. Window B (a fresh fulfild on the same state)
// heartbeats every 5 s and long-polls for 60 s: all its bytes are charged to its heartbeats. The
// idle hour is then 144 polls (3600 s / the default 25 s feed wait) + 60 heartbeats (the default 60
// s), which counts the time-driven background (expiry sweeps, retention) twice: an upper bound.
// Goals (issue 14): <= 64 KiB per lifecycle, <= 1 MiB per idle hour. Exit 1 on a failed run
// (not on a missed goal: the table says that).
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include "api_client.hpp"
#include "bench_support.hpp"
#include "child_process.hpp"
#include "domain/store.hpp"

using namespace fulfil;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kStore = "wear-store";
constexpr int kSkus = 20;
constexpr int kDefaultPollsPerHour = 3600 / 25;       // sync.feed_wait_s default
constexpr int kDefaultHeartbeatsPerHour = 3600 / 60;  // sync.heartbeat_s default

std::string sku(int i) {
  return "W-" + std::to_string(1000 + i);
}

// write_bytes less cancelled_write_bytes: pages dirtied and then truncated away before
// write-back (a temporary file) never reach the device.
struct Io {
  long long write_bytes = 0, wchar = 0, syscw = 0;
};

Io io_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  Io r;
  for (std::string key; in >> key;) {
    long long v = 0;
    in >> v;
    if (key == "write_bytes:") r.write_bytes += v;
    if (key == "cancelled_write_bytes:") r.write_bytes -= v;
    if (key == "wchar:") r.wchar = v;
    if (key == "syscw:") r.syscw = v;
  }
  return r;
}

Io operator-(const Io& a, const Io& b) {
  return {a.write_bytes - b.write_bytes, a.wchar - b.wchar, a.syscw - b.syscw};
}

template <class F>
void wait_until(const char* what, std::chrono::seconds limit, F&& done,
                std::chrono::milliseconds every = 10ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(std::string("timed out waiting for ") + what);
    std::this_thread::sleep_for(every);
  }
}

struct Cloud {
  std::unique_ptr<test::ChildProcess> process;
  int port = 0;
  Cloud() {
    process =
        std::make_unique<test::ChildProcess>(test::built_program("sync/fulfil-cloudsim"),
                                             std::vector<std::string>{"--enrolment-code", "W1"});
    const std::regex address("127\\.0\\.0\\.1:(\\d+)");
    std::smatch m;
    std::string text;
    wait_until("fulfil-cloudsim", 20s, [&] {
      text = process->stderr_text();
      return std::regex_search(text, m, address);
    });
    port = std::stoi(m[1]);
  }
  json get(const std::string& path) const {
    auto r = test::http_get(port, path);
    if (!r || r->status != 200) throw std::runtime_error("cloudsim: GET " + path + " failed");
    return json::parse(r->body);
  }
  json stats() const { return get(std::string("/admin/stores/") + kStore + "/stats"); }
  void command(const json& c) const {
    auto r = test::http_request(port, "POST", std::string("/admin/stores/") + kStore + "/commands",
                                c.dump());
    if (!r || r->status != 201) throw std::runtime_error("cloudsim refused a command");
  }
};

// An experiment: a new database with another page size (fulfild creates 4096-byte pages).
// Frames in the write-ahead log are one page each, so smaller pages write fewer bytes per
// commit; a page size cannot be changed later without rewriting the database.
void create_with_page_size(const std::string& state, int page_size) {
  sqlite3* db = nullptr;
  const std::string sql = "PRAGMA page_size=" + std::to_string(page_size) +
                          "; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;";
  const bool ok = sqlite3_open((state + "/fulfild.db").c_str(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  if (!ok) throw std::runtime_error("cannot create a database with page size " + sql);
}

// The catalog, with stock for every order of the run, committed before fulfild starts.
void seed(const std::string& state) {
  auto opened = agent::Store::open({state + "/fulfild.db", "quick", 5000}, {});
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = **opened;
  const agent::CommandContext ctx{{agent::Actor::Kind::system, "bench"}, agent::now_ms()};
  for (int i = 0; i < kSkus; ++i) {
    if (!store.inventory().upsert({sku(i), "Wear item " + std::to_string(i), "A1", {}, 0}, ctx) ||
        !store.inventory().adjust({sku(i), agent::AdjustmentKind::receipt, 100000, "bench"}, ctx))
      throw std::runtime_error("cannot seed the catalog");
  }
}

struct Agent {
  test::NotifySocket notify;
  std::unique_ptr<test::ChildProcess> process;
  int port = 0;
  Agent(const std::string& state, const Cloud& cloud, int feed_wait_s, int heartbeat_s) {
    port = [] {
      boost::asio::io_context io;
      boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
      return static_cast<int>(a.local_endpoint().port());
    }();
    process = std::make_unique<test::ChildProcess>(
        test::built_program("agent/fulfild"),
        std::vector<std::string>{
            "--state-dir", state, "--listen", "127.0.0.1:" + std::to_string(port), "--log-level",
            "warn", "--set", "api.socket=" + state + "/api.sock", "--set",
            std::string("store.id=") + kStore, "--set",
            "sync.cloud_url=http://127.0.0.1:" + std::to_string(cloud.port), "--set",
            "sync.enrolment_code=W1", "--set", "sync.feed_wait_s=" + std::to_string(feed_wait_s),
            "--set", "sync.heartbeat_s=" + std::to_string(heartbeat_s)},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path()}});
    if (!notify.wait_for("READY=1", 60s))
      throw std::runtime_error("fulfild did not start: " + process->stderr_text());
  }
  ~Agent() {
    process->signal(SIGTERM);
    process->wait(10s);
  }
  json health() const {
    auto r = test::http_get(port, "/health");
    return r ? json::parse(r->body) : json();
  }
  long long pending() const {
    const auto h = health();
    return h.is_object() ? h["outbox"]["pending"].get<long long>() : -1;
  }
};

json routed(const std::string& id, int n) {
  return {{"type", "order.routed"},
          {"payload",
           {{"id", id},
            {"delivery_method", "ship"},
            {"currency", "EUR"},
            {"customer", {{"name", "Wear Customer"}}},
            {"address",
             {{"line1", "1 Flash Street"},
              {"city", "Berlin"},
              {"postcode", "10115"},
              {"country", "DE"}}},
            {"lines",
             {{{"line_no", 1}, {"sku", sku(n % kSkus)}, {"quantity", 1}},
              {{"line_no", 2}, {"sku", sku((n + 7) % kSkus)}, {"quantity", 2}}}}}}};
}

void must(const test::Reply& r, const std::string& what) {
  if (r.status < 200 || r.status > 299)
    throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " " + r.body);
}

// One order, routed by the cloud to shipped by a terminal.
void lifecycle(const Cloud& cloud, const test::ApiClient& terminal, int n) {
  const std::string id = "FO-WEAR-" + std::to_string(n);
  cloud.command(routed(id, n));
  wait_until("the routed order", 30s,
             [&] { return terminal.get("/api/v1/orders/" + id).status == 200; });
  const std::string at = "/api/v1/orders/" + id;
  must(terminal.post(at + "/accept", json::object()), "accept " + id);
  must(terminal.post(at + "/start-picking", json::object()), "start picking " + id);
  must(terminal.post(at + "/pick", {{"sku", sku(n % kSkus)}, {"quantity", 1}}), "pick 1 " + id);
  must(terminal.post(at + "/pick", {{"sku", sku((n + 7) % kSkus)}, {"quantity", 2}}),
       "pick 2 " + id);
  must(terminal.post(at + "/complete-picking", json::object()), "complete picking " + id);
  must(terminal.post(
           at + "/pack",
           {{"packages",
             {{{"box_type", "M"},
               {"weight_g", 900},
               {"items",
                {{{"line_no", 1}, {"quantity", 1}}, {{"line_no", 2}, {"quantity", 2}}}}}}}}),
       "pack " + id);
  must(terminal.post(at + "/ship", {{"carrier", "DHL"}, {"tracking", "TRK" + std::to_string(n)}}),
       "ship " + id);
}

int count_events(const Cloud& cloud, const std::string& type) {
  int n = 0;
  const auto all = cloud.get(std::string("/admin/stores/") + kStore + "/events")["events"];
  for (const auto& e : all) n += e["type"] == type;
  return n;
}

std::string kib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", bytes / 1024);
  return buf;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_wear WORK_DIR [ORDERS] [IDLE_SECONDS]\n");
    return 2;
  }
  const int orders = argc > 2 ? std::atoi(argv[2]) : 50;
  const int idle_s = argc > 3 ? std::atoi(argv[3]) : 40;
  const std::string work = fs::absolute(std::string(argv[1]) + "/bench-wear").string();
  const std::string state = work + "/state";
  fs::remove_all(work);
  fs::create_directories(state);
  Cloud cloud;
  const int page_size = argc > 4 ? std::atoi(argv[4]) : 0;
  if (page_size > 0) create_with_page_size(state, page_size);
  seed(state);

  Io lifecycle_io, poll_io, heartbeat_io;
  long long polls = 0, heartbeats = 0;
  {
    Agent agent(state, cloud, 1, 3600);
    auto code = test::unix_request(state + "/api.sock", "POST", "/api/v1/pairing-codes",
                                   R"({"role":"associate"})");
    auto paired = test::ApiClient(static_cast<unsigned short>(agent.port))
                      .post("/api/v1/pair", {{"code", code.json()["code"]}});
    const test::ApiClient terminal(static_cast<unsigned short>(agent.port),
                                   paired.json()["token"].get<std::string>());
    wait_until("the seed's events to be acknowledged", 60s, [&] { return agent.pending() == 0; });
    std::this_thread::sleep_for(2s);  // the first heartbeat and poll are behind us

    const Io before = io_of(agent.process->pid());
    for (int n = 0; n < orders; ++n) lifecycle(cloud, terminal, n);
    // Every event listed, each time: asked for a few times a second, not a hundred.
    wait_until(
        "the cloud to hold every shipment", 180s,
        [&] { return count_events(cloud, "order.shipped") == orders; }, 250ms);
    wait_until("every event acknowledged", 180s, [&] { return agent.pending() == 0; });
    lifecycle_io = io_of(agent.process->pid()) - before;

    // Idle A: a long-poll a second, no heartbeat due.
    std::this_thread::sleep_for(2s);
    const auto s0 = cloud.stats();
    const Io a0 = io_of(agent.process->pid());
    std::this_thread::sleep_for(std::chrono::seconds(idle_s));
    poll_io = io_of(agent.process->pid()) - a0;
    const auto s1 = cloud.stats();
    polls = s1["requests"].get<long long>() - s0["requests"].get<long long>() -
            (s1["heartbeats"].get<long long>() - s0["heartbeats"].get<long long>());
    if (s1["events"] != s0["events"]) throw std::runtime_error("events were sent while idle");
  }
  {
    // Idle B: a heartbeat every 5 s (the least the schema allows), one long-poll a minute.
    Agent agent(state, cloud, 60, 5);
    std::this_thread::sleep_for(3s);
    const auto s0 = cloud.stats();
    const Io b0 = io_of(agent.process->pid());
    std::this_thread::sleep_for(std::chrono::seconds(idle_s));
    heartbeat_io = io_of(agent.process->pid()) - b0;
    const auto s1 = cloud.stats();
    heartbeats = s1["heartbeats"].get<long long>() - s0["heartbeats"].get<long long>();
  }

  const double per_order = static_cast<double>(lifecycle_io.write_bytes) / orders;
  const double per_poll = polls > 0 ? static_cast<double>(poll_io.write_bytes) / polls : 0;
  const double per_heartbeat =
      heartbeats > 0 ? static_cast<double>(heartbeat_io.write_bytes) / heartbeats : 0;
  const double hour = per_poll * kDefaultPollsPerHour + per_heartbeat * kDefaultHeartbeatsPerHour;
  std::printf("\nfulfild SD-card wear benchmark: state in %s (%s)\n", state.c_str(),
              bench::fs_type(state).c_str());
  std::printf(
      "| measure                                     | write_bytes KiB | wchar KiB | writes |\n");
  std::printf(
      "|---------------------------------------------|-----------------|-----------|--------|\n");
  auto row = [](const std::string& name, double wb, double wc, double calls) {
    char c[32];
    std::snprintf(c, sizeof c, "%.1f", calls);
    std::printf("| %-43s | %15s | %9s | %6s |\n", name.c_str(), kib(wb).c_str(), kib(wc).c_str(),
                c);
  };
  row("order lifecycle (mean of " + std::to_string(orders) + ")", per_order,
      static_cast<double>(lifecycle_io.wchar) / orders,
      static_cast<double>(lifecycle_io.syscw) / orders);
  row("idle A: " + std::to_string(idle_s) + " s, " + std::to_string(polls) + " long-polls",
      static_cast<double>(poll_io.write_bytes), static_cast<double>(poll_io.wchar),
      static_cast<double>(poll_io.syscw));
  row("idle B: " + std::to_string(idle_s) + " s, " + std::to_string(heartbeats) + " heartbeats",
      static_cast<double>(heartbeat_io.write_bytes), static_cast<double>(heartbeat_io.wchar),
      static_cast<double>(heartbeat_io.syscw));
  row("  per long-poll", per_poll, 0, 0);
  row("  per heartbeat", per_heartbeat, 0, 0);
  std::printf("| idle hour at defaults (%d polls + %d heartbeats) | %12s KiB (goal <= 1024) |\n",
              kDefaultPollsPerHour, kDefaultHeartbeatsPerHour, kib(hour).c_str());
  std::printf("| order lifecycle                              | %12s KiB (goal <= 64)   |\n",
              kib(per_order).c_str());
  if (polls <= 0 || heartbeats <= 0) {
    std::printf("FAIL: the idle windows saw no polls or no heartbeats\n");
    return 1;
  }
  fs::remove_all(work);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_wear: %s\n", e.what());
  return 1;
}
