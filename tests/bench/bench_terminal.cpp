// Terminal API benchmark: wrk against fulfild's order queue (100 open orders) and its scan
// endpoint (a real pick, committed with fsync, per request), and against nginx serving the
// same JSON bytes from a file, in the same run with the same connections; then fulfild's
// idle memory with 5 terminals connected by WebSocket. Prints a table.
//   bench_terminal WORK_DIR [SECONDS]
// Fails (exit 1) if a run had errors or a non-2xx answer, or if fulfild's queue reaches less
// than 3% of nginx's rate (nginx sends a file; fulfild authenticates the terminal and sends
// a body cached until the data changes, with the clock's fields filled in).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "api_client.hpp"
#include "bench_support.hpp"
#include "child_process.hpp"
#include "demo/demo.hpp"
#include "domain/store.hpp"

using namespace fulfil;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct WrkResult {
  double requests_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long non_2xx = 0;
  long errors = 0;
  std::string output;
};

double to_ms(const std::string& value, const std::string& unit) {
  const double v = std::stod(value);
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  return v;
}

int free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// wrk with 4 connections on 1 thread (a store has a handful of terminals, not thousands).
WrkResult wrk(const std::string& url, int seconds, const std::string& lua) {
  std::vector<std::string> args = {"-t1", "-c4", "-d" + std::to_string(seconds) + "s", "--latency"};
  if (!lua.empty()) args.insert(args.end(), {"-s", lua});
  args.push_back(url);
  test::ChildProcess p("/usr/bin/wrk", args, {}, false);
  if (!p.wait(std::chrono::seconds(seconds + 30))) throw std::runtime_error("wrk did not finish");
  WrkResult r;
  r.output = p.stdout_text();
  std::smatch m;
  if (std::regex_search(r.output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    r.requests_per_s = std::stod(m[1]);
  if (std::regex_search(r.output, m, std::regex(R"(50%\s+([0-9.]+)(us|ms|s))")))
    r.p50_ms = to_ms(m[1], m[2]);
  if (std::regex_search(r.output, m, std::regex(R"(99%\s+([0-9.]+)(us|ms|s))")))
    r.p99_ms = to_ms(m[1], m[2]);
  if (std::regex_search(r.output, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))")))
    r.non_2xx = std::stol(m[1]);
  if (std::regex_search(r.output, m,
                        std::regex(R"(Socket errors:.*?(\d+), write (\d+), timeout (\d+))")))
    r.errors = std::stol(m[1]) + std::stol(m[2]) + std::stol(m[3]);
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct Nginx {
  std::unique_ptr<test::ChildProcess> process;
  int port = 0;
  Nginx(const std::string& dir) {
    port = free_port();
    write_file(dir + "/nginx.conf",
               "daemon off; worker_processes 1; pid " + dir + "/nginx.pid; error_log " + dir +
                   "/nginx-error.log;\nevents { worker_connections 64; }\nhttp {\n"
                   "  access_log off; client_body_temp_path " +
                   dir +
                   "/tmp;\n"
                   "  proxy_temp_path " +
                   dir + "/tmp; fastcgi_temp_path " + dir +
                   "/tmp;\n"
                   "  uwsgi_temp_path " +
                   dir + "/tmp; scgi_temp_path " + dir +
                   "/tmp;\n"
                   "  default_type application/json;\n"
                   "  server { listen 127.0.0.1:" +
                   std::to_string(port) + "; root " + dir +
                   "/www;\n    error_page 405 =200 $uri; }\n}\n");
    fs::create_directories(dir + "/tmp");
    process = std::make_unique<test::ChildProcess>(
        "/usr/sbin/nginx", std::vector<std::string>{"-c", dir + "/nginx.conf", "-p", dir},
        std::map<std::string, std::string>{}, false);
    for (int i = 0; i < 100; ++i) {
      if (test::http_get(port, "/queue.json")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("nginx did not start: " + process->stderr_text());
  }
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_terminal WORK_DIR [SECONDS]\n");
    return 2;
  }
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string dir = std::string(argv[1]) + "/bench-terminal";
  fs::remove_all(dir);
  fs::create_directories(dir + "/state");
  fs::create_directories(dir + "/www");
  fulfil::bench::seed_store_with_scan_order(dir + "/state", "FO-BENCH");

  const int port = free_port();
  test::NotifySocket notify;
  test::ChildProcess daemon(
      test::built_program("agent/fulfild"),
      {"--state-dir", dir + "/state", "--listen", "127.0.0.1:" + std::to_string(port), "--set",
       "api.socket=" + dir + "/state/api.sock", "--log-level", "warn"},
      {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(60)))
    throw std::runtime_error("fulfild did not start: " + daemon.stderr_text());
  auto code = test::unix_request(dir + "/state/api.sock", "POST", "/api/v1/pairing-codes",
                                 R"({"role":"associate"})");
  auto paired = test::ApiClient(port).post("/api/v1/pair", {{"code", code.json()["code"]}});
  const std::string token = paired.json()["token"];
  test::ApiClient terminal(port, token);

  // The same bytes for nginx to serve.
  auto queue = terminal.get("/api/v1/orders?state=routed");
  if (queue.json()["orders"].size() != 100) throw std::runtime_error("expected 100 routed orders");
  write_file(dir + "/www/queue.json", queue.body);
  // The scans rotate over the order's SKUs (wrk's Lua picks the next body each request).
  std::string bodies;
  for (int k = 0; k < fulfil::bench::kScanSkus; ++k) {
    const std::string code =
        terminal.get("/api/v1/inventory/" + fulfil::bench::scan_sku(k)).json()["barcodes"][0];
    bodies += "'{\"barcode\":\"" + code + "\"}',";
  }
  auto scan = terminal.post(
      "/api/v1/orders/FO-BENCH/scan",
      {{"barcode",
        terminal.get("/api/v1/inventory/" + fulfil::bench::scan_sku(0)).json()["barcodes"][0]}});
  if (scan.status != 200) throw std::runtime_error("scan refused: " + scan.body);
  write_file(dir + "/www/scan.json", scan.body);

  write_file(dir + "/get.lua", "wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"\n");
  write_file(dir + "/scan.lua",
             "local bodies = {" + bodies +
                 "}\nlocal n = 0\n"
                 "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
                 "wrk.headers[\"Authorization\"] = \"Bearer " +
                 token +
                 "\"\n"
                 "request = function()\n  n = n + 1\n"
                 "  return wrk.format(nil, nil, nil, bodies[n % #bodies + 1])\nend\n");
  Nginx nginx(dir);
  const std::string f = "http://127.0.0.1:" + std::to_string(port);
  const std::string n = "http://127.0.0.1:" + std::to_string(nginx.port);
  const auto fq = wrk(f + "/api/v1/orders?state=routed", seconds, dir + "/get.lua");
  const auto nq = wrk(n + "/queue.json", seconds, "");
  const auto fs_ = wrk(f + "/api/v1/orders/FO-BENCH/scan", seconds, dir + "/scan.lua");
  const auto ns = wrk(n + "/scan.json", seconds, dir + "/scan.lua");

  // Idle memory with 5 terminals listening.
  std::vector<std::unique_ptr<test::EventSocket>> terminals;
  for (int i = 0; i < 5; ++i) {
    terminals.push_back(std::make_unique<test::EventSocket>(port, token));
    terminals.back()->next(std::chrono::seconds(2));  // hello
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long rss = rss_kb(daemon.pid());
  const auto metrics = test::ApiClient(port).get("/metrics").body;
  const bool five = metrics.find("fulfild_terminals_connected 5") != std::string::npos;

  std::printf("\nfulfild terminal API benchmark: wrk -t1 -c4 -d%ds on loopback (same run)\n",
              seconds);
  std::printf("| endpoint                                   | req/s    | p50 ms | p99 ms |\n");
  std::printf("|--------------------------------------------|----------|--------|--------|\n");
  auto row = [](const char* name, const WrkResult& r) {
    std::printf("| %-42s | %8.0f | %6.2f | %6.2f |\n", name, r.requests_per_s, r.p50_ms, r.p99_ms);
  };
  row("fulfild GET order queue (100 orders)", fq);
  row("nginx, the same bytes from a file", nq);
  row("fulfild POST scan (a committed pick)", fs_);
  row("nginx, the scan's bytes from a file", ns);
  std::printf("| queue: fulfild / nginx                     | %7.1f%% |        |        |\n",
              100 * fq.requests_per_s / nq.requests_per_s);
  std::printf("| scan: fulfild / nginx                      | %7.1f%% |        |        |\n",
              100 * fs_.requests_per_s / ns.requests_per_s);
  std::printf("| idle VmRSS, 5 WebSocket terminals (KiB)    | %8ld |        |        |\n", rss);
  std::printf("(queue body %zu bytes)\n", queue.body.size());

  int rc = 0;
  for (const auto* r : {&fq, &nq, &fs_, &ns})
    if (r->non_2xx || r->errors || r->requests_per_s <= 0) {
      std::printf("FAIL: a wrk run had errors or non-2xx answers:\n%s\n", r->output.c_str());
      rc = 1;
    }
  // nginx sends a file with sendfile; the queue is an authenticated terminal and a cached
  // body (built from SQLite once per change). Built on every request it ran at 4.7% to 6.8%
  // of nginx's rate; cached, 32% to 58% on a loaded machine: the limit sits below that
  // noise and still catches the cache going. Under qemu-user only fulfild is emulated (nginx
  // and wrk run natively), so the ratio there is printed, not held to a limit.
  const double queue_limit = 0.15;
  if (!test::emulated() && fq.requests_per_s < queue_limit * nq.requests_per_s) {
    std::printf("FAIL: the queue is below %.0f%% of nginx's rate\n", queue_limit * 100);
    rc = 1;
  }
  if (!five) {
    std::printf("FAIL: /metrics does not count 5 connected terminals\n");
    rc = 1;
  }
  daemon.signal(SIGTERM);
  daemon.wait(std::chrono::seconds(10));
  nginx.process->signal(SIGTERM);
  nginx.process->wait(std::chrono::seconds(10));
  return rc;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_terminal: %s\n", e.what());
  return 1;
}
