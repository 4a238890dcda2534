// Barcode scanning benchmark, two parts measured in the same run:
//  1. End to end: this program is a network scanner (a TCP sled fulfild connects out to). It
//     sends one barcode line, and waits for the "scan" message on a WebSocket terminal of the
//     scanner's desk: read, decoded, matched to the desk's open pick line, committed (one
//     fsync'd transaction with its audit row) and pushed. One scan at a time (closed loop),
//     like an associate at a pack desk. The baseline is a raw SQLite commit on the same disk
//     (WAL, synchronous=FULL), timed in blocks alternating with the scans: a scan is one
//     durable commit plus CPU work, so its p50 must stay within 2 raw commits + 3 ms.
//  2. The parser: drivers::decode_barcode over a mix of what store scanners send, against a
//     bare memcpy-and-compare of the same bytes: at least 1% of that rate, and 100k scans/s.
// Prints a table; fails (exit 1) when a limit is missed.
//   bench_scanner WORK_DIR [N]   (N scans end to end, default 2000)
// WORK_DIR should be on the disk the daemon would use (not tmpfs) so fsync costs are real.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "api_client.hpp"
#include "bench_support.hpp"
#include "child_process.hpp"
#include "codes/barcode.hpp"
#include "demo/demo.hpp"
#include "domain/store.hpp"

using namespace fulfil;
using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The limits (see main for why).
constexpr double kScanCommits = 2;        // scan p50 <= 2 raw commits' p50 ...
constexpr double kScanCpuMs = 3;          // ... + 3 ms (x the emulator's slowdown)
constexpr double kParserRatio = 0.01;     // decode_barcode >= 1% of memcpy-and-compare
constexpr double kParserFloor = 100'000;  // and >= 100,000 scans/s (/ the slowdown)

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Latencies {
  double p50 = 0, p99 = 0, max = 0, per_s = 0;
};

Latencies summarize(std::vector<double> ms, double total_ms) {
  Latencies l;
  std::sort(ms.begin(), ms.end());
  l.p50 = ms[ms.size() / 2];
  l.p99 = ms[ms.size() * 99 / 100];
  l.max = ms.back();
  l.per_s = static_cast<double>(ms.size()) * 1000 / total_ms;
  return l;
}

// Keeps the compiler from dropping or hoisting work on `p` (the usual DoNotOptimize).
inline void clobber(const void* p) {
  __asm__ volatile("" : : "g"(p) : "memory");
}

// --- the raw commit baseline ---------------------------------------------------------------

// --- the end-to-end scan path --------------------------------------------------------------

// The sled's side: a listening TCP socket on 127.0.0.1 that fulfild connects to.
class Sled {
 public:
  Sled() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen as the sled: " + std::string(std::strerror(errno)));
    port_ = ntohs(addr.sin_port);
  }
  ~Sled() {
    if (conn_ >= 0) ::close(conn_);
    ::close(listener_);
  }
  Sled(const Sled&) = delete;
  Sled& operator=(const Sled&) = delete;
  int port() const { return port_; }

  void accept(std::chrono::milliseconds timeout) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
      throw std::runtime_error("fulfild did not connect to the sled");
    conn_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn_ < 0) throw std::runtime_error("accept: " + std::string(std::strerror(errno)));
  }

  // One read, as the sled sends it: the data and CR LF.
  void send_line(const std::string& data) {
    const std::string line = data + "\r\n";
    if (::send(conn_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("the sled's connection failed");
  }

 private:
  int listener_ = -1;
  int conn_ = -1;
  int port_ = 0;
};

// The next "scan" message (the outbox events of the pick come before it), or nothing.
std::optional<json> next_scan(test::EventSocket& ws, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto m =
        ws.next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!m) return std::nullopt;
    if ((*m)["type"] == "scan") return m;
  }
  return std::nullopt;
}

struct ScanRun {
  Latencies scan, raw;
  int picks = 0;               // scans answered with status 200 and the line count going up by one
  double cpu_ms_per_scan = 0;  // fulfild's CPU time (user + system) per scan
};

// What a desk's scanners send for one product: the plain EAN-13, with its AIM identifier,
// a GS1-128 carton label with a lot, and the human-readable form an associate types.
std::vector<std::string> scan_forms(const std::string& gtin) {
  std::string gtin14 = std::string(14 - std::min<std::size_t>(14, gtin.size()), '0') + gtin;
  const std::string ean13 = gtin14.substr(1);
  return {ean13, "]E0" + ean13, "]C101" + gtin14 + "10LOT-7", "(01)" + gtin14};
}

// The scans and the raw commits alternate in blocks of 50, so that both see the same disk
// and the same neighbours on this shared machine.
ScanRun scan_end_to_end(const std::string& dir, int n) {
  fs::create_directories(dir + "/state");
  fs::create_directories(dir + "/raw");
  fulfil::bench::RawCommits raw(dir + "/raw/raw.db");
  fulfil::bench::seed_store_with_scan_order(dir + "/state", "FO-SCAN");
  Sled sled;
  {
    const json config = {{"scanners",
                          {{{"id", "bench-sled"},
                            {"kind", "network"},
                            {"station", "desk-1"},
                            {"host", "127.0.0.1"},
                            {"port", sled.port()}}}}};
    std::ofstream(dir + "/fulfild.json") << config.dump(2);
  }
  test::NotifySocket notify;
  test::ChildProcess daemon(
      test::built_program("agent/fulfild"),
      {"--config", dir + "/fulfild.json", "--state-dir", dir + "/state", "--listen", "127.0.0.1:0",
       "--set", "api.socket=" + dir + "/state/api.sock", "--log-level", "warn"},
      {{"NOTIFY_SOCKET", notify.path()}});
  const auto slow = test::slowdown();
  const auto ready = notify.wait_for("READY=1", std::chrono::seconds(60));
  if (!ready) throw std::runtime_error("fulfild did not start: " + daemon.stderr_text());
  const auto port = test::notified_port(*ready);
  if (!port) throw std::runtime_error("no port in " + *ready);
  sled.accept(std::chrono::seconds(10 * slow));

  auto code = test::unix_request(dir + "/state/api.sock", "POST", "/api/v1/pairing-codes",
                                 R"({"role":"associate","name":"Bench desk","station":"desk-1"})");
  if (code.status != 200 && code.status != 201)
    throw std::runtime_error("pairing code refused: " + code.body);
  auto paired = test::ApiClient(static_cast<unsigned short>(*port))
                    .post("/api/v1/pair", {{"code", code.json()["code"]}});
  const std::string token = paired.json()["token"];
  test::ApiClient desk(static_cast<unsigned short>(*port), token);
  auto session =
      desk.send("PUT", "/api/v1/stations/desk-1/session", json{{"order_id", "FO-SCAN"}}.dump());
  if (session.status != 200) throw std::runtime_error("no station session: " + session.body);
  test::EventSocket events(static_cast<unsigned short>(*port), token);
  auto hello = events.next(std::chrono::seconds(5 * slow));
  if (!hello || (*hello)["type"] != "hello") throw std::runtime_error("no hello on the WebSocket");

  // The scans rotate over the order's SKUs and the forms of their barcodes.
  std::vector<std::string> scans;
  for (int k = 0; k < fulfil::bench::kScanSkus; ++k) {
    const std::string gtin = desk.get("/api/v1/inventory/" + fulfil::bench::scan_sku(k))
                                 .json()["barcodes"][0]
                                 .get<std::string>();
    for (auto& f : scan_forms(gtin)) scans.push_back(f);
  }
  ScanRun run;
  std::vector<int> picked(fulfil::bench::kScanSkus, 0);
  int sent = 0;
  // One closed-loop scan: the read goes out, the desk's terminal hears the pick.
  auto scan_ms = [&] {
    const std::string& data = scans[static_cast<std::size_t>(sent) % scans.size()];
    const auto k = static_cast<std::size_t>(sent) % scans.size() / 4;
    ++sent;
    const auto t = Clock::now();
    sled.send_line(data);
    auto m = next_scan(events, std::chrono::seconds(10 * slow));
    const double took = ms_since(t);
    if (!m) throw std::runtime_error("no scan message for '" + data + "'");
    if ((*m)["data"] != data)
      throw std::runtime_error("scan message for another read: " + m->dump());
    if ((*m)["order_id"] != "FO-SCAN" || (*m)["status"] != 200)
      throw std::runtime_error("the scan was not a pick: " + m->dump());
    if ((*m)["result"]["line_picked"] != ++picked[k])
      throw std::runtime_error("unexpected line count: " + m->dump());
    return took;
  };
  for (int i = 0; i < 20; ++i) {  // warm-up: caches, the WAL, the connection
    scan_ms();
    raw.commit_ms();
  }
  std::vector<double> scan_lat, raw_lat;
  double scan_total = 0, raw_total = 0;
  const double cpu0 = fulfil::bench::cpu_ms(daemon.pid());
  for (int done = 0; done < n;) {
    const int block = std::min(50, n - done);
    for (int i = 0; i < block; ++i) raw_lat.push_back(raw.commit_ms());
    const auto t = Clock::now();
    for (int i = 0; i < block; ++i) scan_lat.push_back(scan_ms());
    scan_total += ms_since(t);
    done += block;
  }
  run.cpu_ms_per_scan = (fulfil::bench::cpu_ms(daemon.pid()) - cpu0) / n;
  for (double ms : raw_lat) raw_total += ms;
  run.picks = static_cast<int>(scan_lat.size());
  run.scan = summarize(std::move(scan_lat), scan_total);
  run.raw = summarize(std::move(raw_lat), raw_total);
  daemon.signal(SIGTERM);
  if (daemon.wait(std::chrono::seconds(10 * slow)) != 0)
    throw std::runtime_error("fulfild did not stop cleanly: " + daemon.stderr_text());
  return run;
}

// --- the parser ----------------------------------------------------------------------------

// What store scanners send, one of each: retail codes with and without AIM identifiers,
// GS1-128 labels with several AIs (FNC1 as GS), a typed human-readable GS1 string, and
// Code 128 text (order labels, pickup codes).
const std::vector<std::string>& parser_mix() {
  static const std::vector<std::string> mix = {
      "4006381333931",     // EAN-13
      "]E04006381333931",  // EAN-13, AIM identifier
      "036000291452",      // UPC-A
      "]E00036000291452",  // UPC-A in an EAN-13 symbol
      "04252614",          // UPC-E
      "96385074",          // EAN-8
      "]C101095011015300031725063010AB-123\x1d"
      "21S/N-9",                                       // GS1-128: GTIN, expiry, lot, serial
      "]C1010950110153000331030007501525123110LOT42",  // GS1-128: GTIN, net kg, best before
      "(01)09501101530003(17)250630(10)AB-123",        // human-readable GS1
      "ORD-12345",                                     // Code 128 order label, wedge
      "]C0ORD-12345",                                  // Code 128 with its identifier
      "PU-7F3K9Q",                                     // pickup code
  };
  return mix;
}

struct Throughput {
  double parser_per_s = 0, baseline_per_s = 0;
  std::size_t checksum = 0;
};

// Scans per second of one timed run (~100 ms) of whole passes over the mix.
template <class F>
double rate(std::size_t per_pass, F&& one_pass) {
  std::size_t scans = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  while (elapsed < 100) {  // ms
    for (int r = 0; r < 64; ++r) one_pass();
    scans += 64 * per_pass;
    elapsed = ms_since(t0);
  }
  return static_cast<double>(scans) * 1000 / elapsed;
}

Throughput parser_throughput() {
  const auto& mix = parser_mix();
  for (const auto& s : mix)
    if (auto d = drivers::decode_barcode(s); !d)
      throw std::runtime_error("the parser mix has a bad scan '" + s + "': " + d.error().message);
  // The baseline compares each scan with a known string (a separate copy of it).
  const std::vector<std::string> known(mix.begin(), mix.end());
  std::array<char, 256> buffer{};
  volatile std::size_t sink = 0;
  auto parse = [&] {
    std::size_t sum = 0;
    for (const auto& s : mix) {
      auto d = drivers::decode_barcode(s);
      sum += d->data.size() + d->elements.size() + (d->gtin14 ? 1 : 0);
    }
    sink = sink + sum;
  };
  auto copy_and_compare = [&] {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < mix.size(); ++i) {
      std::memcpy(buffer.data(), mix[i].data(), mix[i].size());
      clobber(buffer.data());
      sum += mix[i].size() == known[i].size() &&
             std::memcmp(buffer.data(), known[i].data(), known[i].size()) == 0;
    }
    sink = sink + sum;
  };
  // The two alternate, 8 runs each, and the best run of each counts: both see the same
  // neighbours on this shared machine, and the best run is the least disturbed one.
  Throughput t;
  for (int run = 0; run < 8; ++run) {
    t.baseline_per_s = std::max(t.baseline_per_s, rate(mix.size(), copy_and_compare));
    t.parser_per_s = std::max(t.parser_per_s, rate(mix.size(), parse));
  }
  t.checksum = sink;
  return t;
}

// --- the table -----------------------------------------------------------------------------

std::string num(double v, const char* format = "%.0f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void row(const std::string& measure, const std::string& value, const std::string& note) {
  std::printf("| %-44s | %20s | %-52s |\n", measure.c_str(), value.c_str(), note.c_str());
}

std::string lat3(const Latencies& l) {
  return num(l.p50, "%.2f") + " / " + num(l.p99, "%.2f") + " / " + num(l.max, "%.1f");
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string base = argc > 1 ? argv[1] : ".";
  const int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (n < 100 || n > fulfil::bench::kScanSkus * fulfil::bench::kScanUnitsPerLine - 100)
    throw std::runtime_error(
        "N must be from 100 to " +
        std::to_string(fulfil::bench::kScanSkus * fulfil::bench::kScanUnitsPerLine - 100));
  const std::string work = fs::absolute(base + "/bench-scanner").string();
  fs::remove_all(work);
  fs::create_directories(work);

  const ScanRun run = scan_end_to_end(work, n);
  const Throughput parse = parser_throughput();
  const Latencies& raw = run.raw;
  const Latencies& scan = run.scan;

  // Limits. (1) A scan is one durable commit (the pick and its audit row) plus work that is
  // all CPU: the sled's TCP read, the decode, ~10 SQL statements, the order's JSON and the
  // WebSocket push to the terminal. So the limit is two raw commits (a scan path that grew
  // to three fsyncs fails) plus 3 ms for the CPU work, which is what remains where fsync is
  // nearly free (NVMe with a write-back cache, tmpfs). On the 2-core dev box (ext4, fsync
  // ~4 ms) scan p50 equalled raw p50 (3.98-4.02 ms, 1.00x) in every run, fulfild spent
  // 1.2-1.7 ms CPU per scan, and the limit came to ~11 ms: more than 2.5x headroom on a slow
  // disk, 2x over the CPU part on a fast one. p99 is reported, not limited: it is the
  // disk's and the neighbours' (checkpoints, other jobs), not the scan path's.
  const double scan_limit_ms = kScanCommits * raw.p50 + kScanCpuMs * test::slowdown();
  const bool scan_ok = scan.p50 <= scan_limit_ms;
  // (2) The parser allocates its result (a string or two, a vector of GS1 elements); the
  // baseline copies and compares the same bytes, in runs alternating with the parser's. The
  // ratio was 2.1-3.7% over 8 runs on the dev box (lowest at load average 5-7 on 2 cores,
  // which slows the allocating parser more than memcpy), so 1% leaves 2x under the worst
  // run. The floor is a sanity check (a scanner reads ~10 codes/s; the parser ran 1.7-4.6M/s).
  const double ratio = parse.parser_per_s / parse.baseline_per_s;
  const bool ratio_ok = ratio >= kParserRatio;
  const double floor_per_s = kParserFloor / test::slowdown();
  const bool floor_ok = parse.parser_per_s >= floor_per_s;

  std::printf("\nfulfild barcode scanning benchmark: N=%d, databases in %s (%s)%s\n", n,
              work.c_str(), fulfil::bench::fs_type(work).c_str(),
              test::emulated() ? ", run under FULFIL_EMULATOR" : "");
  std::printf("| %-44s | %20s | %-52s |\n", "measure", "value", "limit / baseline");
  std::printf("|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(22, '-').c_str(),
              std::string(54, '-').c_str());
  row("(a) raw SQLite commit p50 / p99 / max (ms)", lat3(raw),
      "baseline: WAL, synchronous=FULL, " + num(raw.per_s) + "/s");
  row("(b) sled -> pick -> WebSocket p50/p99/max ms", lat3(scan),
      num(scan.p50 / raw.p50, "p50 %.2fx raw; limit ") + num(kScanCommits, "%.0fx raw + ") +
          num(kScanCpuMs * test::slowdown(), "%.0f ms") + num(scan_limit_ms, " = %.2f ms") +
          (scan_ok ? "" : "  FAIL"));
  row("    scans/s, one at a time", num(scan.per_s),
      std::to_string(run.picks) + " committed picks, 4 barcode forms");
  row("    fulfild CPU per scan (ms)", num(run.cpu_ms_per_scan, "%.3f"),
      test::emulated() ? "user + system, incl. qemu" : "user + system");
  row("(c) decode_barcode, scans/s (12-scan mix)", num(parse.parser_per_s),
      num(floor_per_s, "limit >= %.0f/s") + (floor_ok ? "" : "  FAIL"));
  row("    memcpy + compare, scans/s", num(parse.baseline_per_s), "baseline: the same bytes");
  row("    parser / baseline", num(ratio * 100, "%.2f%%"),
      num(kParserRatio * 100, "limit >= %.1f%%") + (ratio_ok ? "" : "  FAIL"));
  std::printf("(checksum %zu)\n", parse.checksum);
  fs::remove_all(work);

  int rc = 0;
  if (!scan_ok) {
    std::printf("FAIL: scan latency p50 %.2f ms is above %.2f ms (%.0fx a raw commit + %.0f ms)\n",
                scan.p50, scan_limit_ms, kScanCommits, kScanCpuMs * test::slowdown());
    rc = 1;
  }
  if (!floor_ok) {
    std::printf("FAIL: decode_barcode runs %.0f scans/s, below %.0f\n", parse.parser_per_s,
                floor_per_s);
    rc = 1;
  }
  if (!ratio_ok) {
    std::printf("FAIL: decode_barcode is below %.1f%% of memcpy-and-compare\n", kParserRatio * 100);
    rc = 1;
  }
  return rc;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_scanner: %s\n", e.what());
  return 2;
}
