// Printers against real endpoints with no hardware: a loopback TCP listener stands in for a
// label printer on port 9100, a private cupsd (tests/support/cups_server) with raw queues
// sends to that listener through CUPS' socket backend, and a test backend makes a queue
// report media-empty the way a real printer's backend does. Every wait has a deadline.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cups_server.hpp"
#include "drivers/printer.hpp"
#include "loopback.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace fulfil::drivers;
using namespace std::chrono_literals;

namespace {

// The io_context and worker pool the agent would give make_printer, and bounded waits.
struct Harness {
  asio::io_context io;
  asio::thread_pool workers{2};
  std::thread::id io_thread = std::this_thread::get_id();

  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.restart();
      if (io.run_for(20ms) == 0) std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  // Calls `start(handler)` and runs until the handler has run; checks it ran once, here.
  template <typename Result, typename Start>
  Result call(Start start, std::chrono::milliseconds limit = 20s) {
    std::optional<Result> result;
    int calls = 0;
    bool on_io_thread = true;
    start([&](Result r) {
      ++calls;
      on_io_thread = on_io_thread && std::this_thread::get_id() == io_thread;
      result = std::move(r);
    });
    REQUIRE(run_until([&] { return result.has_value(); }, limit));
    io.restart();
    io.poll();  // a second call would be queued by now
    CHECK(calls == 1);
    CHECK(on_io_thread);
    return *result;
  }

  SubmitResult submit(Printer& p, PrintRequest r) {
    return call<SubmitResult>([&](auto done) { p.submit(std::move(r), done); });
  }
  PrinterStatus status(Printer& p) {
    return call<PrinterStatus>([&](auto done) { p.query_status(done); });
  }
  ExternalJob job_state(Printer& p, int id) {
    return call<ExternalJob>([&](auto done) { p.job_state(id, done); });
  }
  std::optional<int> find_job(Printer& p, const std::string& job_id) {
    return call<std::optional<int>>([&](auto done) { p.find_job(job_id, done); });
  }
};

const std::string label =
    "^XA^CI28^FO50,50^A0N,40,40^FH^FDFO-1001 _C3_A9t_C3_A9^FS^FO50,120^BCN,80^FD1Z999^FS^XZ\r\n";

PrintRequest request(std::string job_id, std::string document = label, int copies = 1) {
  PrintRequest r;
  r.job_id = std::move(job_id);
  r.title = "Shipping label FO-1001 1/1";
  r.document = std::move(document);
  r.copies = copies;
  return r;
}

PrinterConfig raw_config(std::uint16_t port) {
  PrinterConfig c;
  c.id = "desk1-zebra";
  c.kind = PrinterKind::raw_tcp;
  c.host = "127.0.0.1";
  c.port = port;
  c.timeout = 2000ms;
  return c;
}

PrinterConfig cups_config(const fulfil::test::CupsServer& cups, std::string queue) {
  PrinterConfig c;
  c.id = "desk1-cups";
  c.kind = PrinterKind::cups;
  c.cups_queue = std::move(queue);
  c.cups_server = cups.address();
  c.timeout = 5000ms;
  return c;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + " ";
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits for the CUPS job to reach a final state; the last state seen.
ExternalJob wait_for_job_end(Harness& h, Printer& p, int id) {
  ExternalJob job;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    job = h.job_state(p, id);
    if (job.state == ExternalJobState::completed || job.state == ExternalJobState::aborted ||
        job.state == ExternalJobState::cancelled)
      break;
    h.run_until([] { return false; }, 100ms);
  }
  return job;
}

}  // namespace

TEST_CASE("a printers[] entry becomes a PrinterConfig") {
  const auto c = printer_config_from(nlohmann::json{{"id", "desk1-zebra"},
                                                    {"kind", "raw_tcp"},
                                                    {"language", "zpl"},
                                                    {"dpi", 300},
                                                    {"host", "10.0.0.7"},
                                                    {"timeout_ms", 2500}});
  CHECK(c.kind == PrinterKind::raw_tcp);
  CHECK(c.dpi == 300);
  CHECK(c.host == "10.0.0.7");
  CHECK(c.port == 9100);
  CHECK(c.timeout == 2500ms);
  const auto cups = printer_config_from(nlohmann::json{
      {"id", "office"}, {"kind", "cups"}, {"language", "pdf"}, {"cups_queue", "laser"}});
  CHECK(cups.language == PrinterLanguage::pdf);
  CHECK(cups.cups_queue == "laser");
  CHECK(cups.cups_server.empty());
  CHECK_THROWS(printer_config_from(nlohmann::json{{"id", "x"}, {"kind", "lpt"}}));
}

TEST_CASE("raw TCP sends the document's exact bytes once per copy") {
  Harness h;
  fulfil::test::LoopbackPrinter printer;
  auto p = make_printer(h.io, h.workers, raw_config(printer.port()));
  const auto r = h.submit(*p, request("PJ-1", label, 2));
  CHECK(r.ok);
  CHECK(r.error == "");
  CHECK_FALSE(r.external_id);
  REQUIRE(h.run_until([&] { return printer.connections().size() == 1; }, 5s));
  CHECK(printer.received() == label + label);
}

TEST_CASE("raw TCP finishes after a short wait when the printer keeps the socket open") {
  Harness h;
  fulfil::test::LoopbackPrinter zebra({"", true});
  auto p = make_printer(h.io, h.workers, raw_config(zebra.port()));
  const auto start = std::chrono::steady_clock::now();
  CHECK(h.submit(*p, request("PJ-2")).ok);
  CHECK(std::chrono::steady_clock::now() - start < 1900ms);  // not the 2 s timeout
}

TEST_CASE("raw TCP to a printer that is not there is retryable, and works once it is") {
  Harness h;
  fulfil::test::LoopbackPrinter printer(fulfil::test::LoopbackPrinter::Options::switched_off());
  const auto port = printer.port();
  auto p = make_printer(h.io, h.workers, raw_config(port));
  const auto failed = h.submit(*p, request("PJ-3"));
  CHECK_FALSE(failed.ok);
  CHECK(failed.retryable);
  CHECK(failed.error.find("cannot connect to 127.0.0.1:" + std::to_string(port)) == 0);
  MESSAGE(failed.error);

  printer.open();
  CHECK(h.submit(*p, request("PJ-3")).ok);
  REQUIRE(h.run_until([&] { return printer.connections().size() == 1; }, 5s));
  CHECK(printer.received() == label);
}

TEST_CASE("raw TCP status: a Zebra's ~HS reply, no reply, and no printer") {
  Harness h;
  // Paper out (line 1, 2nd flag) and ribbon out (line 2, 4th flag); one format waiting.
  const std::string hs =
      "\x02"
      "030,1,0,1245,001,0,0,0,000,0,0,0\x03\r\n"
      "\x02"
      "001,0,0,1,1,2,6,0,00000000,1,000\x03\r\n"
      "\x02"
      "1234,0\x03\r\n";
  {
    fulfil::test::LoopbackPrinter zebra({hs});
    auto p = make_printer(h.io, h.workers, raw_config(zebra.port()));
    const auto s = h.status(*p);
    CHECK(s.id == "desk1-zebra");
    CHECK(s.kind == PrinterKind::raw_tcp);
    CHECK(s.state == PrinterState::stopped);
    CHECK(s.reasons == std::vector<std::string>{"media-empty-error", "marker-supply-empty-error"});
    CHECK(s.detail == "paper out, ribbon out");
    REQUIRE(h.run_until([&] { return zebra.connections().size() == 1; }, 5s));
    CHECK(zebra.received() == "~HS\r\n");
  }
  {
    fulfil::test::LoopbackPrinter zebra(
        {"\x02"
         "030,0,1,1245,000,0,0,0,000,0,0,0\x03\r\n"
         "\x02"
         "001,0,1,0,1,2,6,0,00000000,1,000\x03\r\n"
         "\x02"
         "1234,0\x03\r\n"});
    auto p = make_printer(h.io, h.workers, raw_config(zebra.port()));
    const auto s = h.status(*p);
    CHECK(s.reasons == std::vector<std::string>{"paused", "cover-open-error"});
  }
  {
    fulfil::test::LoopbackPrinter generic;  // a 9100 printer that does not speak ZPL says nothing
    auto c = raw_config(generic.port());
    c.timeout = 300ms;
    auto p = make_printer(h.io, h.workers, c);
    const auto s = h.status(*p);
    CHECK(s.state == PrinterState::unknown);
    CHECK(s.detail == "no status reply to ~HS");
  }
  {
    fulfil::test::LoopbackPort nobody;  // bound, never listening: connections are refused
    auto p = make_printer(h.io, h.workers, raw_config(nobody.port()));
    const auto s = h.status(*p);
    CHECK(s.state == PrinterState::offline);
    CHECK(s.detail.find("cannot connect") == 0);
  }
}

TEST_CASE("a printer destroyed while sending still answers once") {
  Harness h;
  fulfil::test::LoopbackPrinter printer;
  auto p = make_printer(h.io, h.workers, raw_config(printer.port()));
  std::optional<SubmitResult> result;
  int calls = 0;
  p->submit(request("PJ-4"), [&](SubmitResult r) {
    ++calls;
    result = r;
  });
  p.reset();
  REQUIRE(h.run_until([&] { return result.has_value(); }, 5s));
  CHECK(result->ok);
  h.run_until([] { return false; }, 100ms);
  CHECK(calls == 1);
}

TEST_CASE("the file printer writes each copy atomically with the exact bytes") {
  Harness h;
  const fs::path dir = fs::temp_directory_path() / ("fulfil-printer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  PrinterConfig c;
  c.id = "demo";
  c.kind = PrinterKind::file;
  c.directory = dir.string();
  auto p = make_printer(h.io, h.workers, c);

  const std::string pdf = std::string("%PDF-1.7\n\0\xff binary\n%%EOF\n", 24);
  auto r = request("PJ-5", pdf, 2);
  r.format = PrinterLanguage::pdf;
  const auto result = h.submit(*p, r);
  CHECK(result.ok);
  CHECK(read_file(dir / "PJ-5-1.pdf") == pdf);
  CHECK(read_file(dir / "PJ-5-2.pdf") == pdf);
  CHECK(h.submit(*p, request("../PJ-6")).ok);  // cannot leave the folder
  CHECK(read_file(dir / "_.._PJ-6-1.zpl") == label);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  CHECK(names ==
        std::vector<std::string>{"PJ-5-1.pdf", "PJ-5-2.pdf", "_.._PJ-6-1.zpl"});  // no temps

  CHECK(h.status(*p).state == PrinterState::idle);
  fs::remove_all(dir);
  const auto gone = h.submit(*p, request("PJ-7"));
  CHECK_FALSE(gone.ok);
  CHECK(gone.retryable);
  CHECK(gone.error.find("cannot create") == 0);
  const auto s = h.status(*p);
  CHECK(s.state == PrinterState::stopped);
  CHECK(s.detail.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a CUPS raw queue sends the exact bytes to the printer and the job completes") {
  fulfil::test::CupsServer cups;
  fulfil::test::LoopbackPrinter printer;
  cups.add_queue("zebra", "socket://127.0.0.1:" + std::to_string(printer.port()));
  Harness h;
  auto p = make_printer(h.io, h.workers, cups_config(cups, "zebra"));

  const auto r = h.submit(*p, request("PJ-42", label, 2));
  REQUIRE_MESSAGE(r.ok, r.error);
  REQUIRE(r.external_id);
  const auto job = wait_for_job_end(h, *p, *r.external_id);
  CHECK(job.state == ExternalJobState::completed);
  MESSAGE("completed job reasons: ", job.reasons);  // CUPS 2.4 says processing-to-stop-point
  // CUPS' socket backend sends the file once per copy.
  REQUIRE(h.run_until([&] { return printer.received().size() >= 2 * label.size(); }, 10s));
  CHECK(printer.received() == label + label);

  // After a crash the job is found by our id, and "PJ-4" is not "PJ-42".
  CHECK(h.find_job(*p, "PJ-42") == r.external_id);
  CHECK(h.find_job(*p, "PJ-4") == std::nullopt);

  const auto s = h.status(*p);
  CHECK(s.kind == PrinterKind::cups);
  CHECK(s.state == PrinterState::idle);
  CHECK_MESSAGE(s.reasons.empty(), joined(s.reasons));

  cups.add_queue("laser", "file:///dev/null");
  std::string error = "not cleared";
  const auto dests = cups_destinations(cups.address(), &error);
  CHECK(error == "");
  REQUIRE(dests.size() == 2);
  CHECK(dests[0].name == "laser");
  CHECK(dests[0].device_uri == "file:///dev/null");
  CHECK(dests[1].name == "zebra");
  CHECK(dests[1].state == PrinterState::idle);
  CHECK(cups_destinations(cups.socket_path(), &error).size() == 2);  // over the socket too
}

TEST_CASE("a CUPS job waits while its printer is down and prints once when it is up") {
  fulfil::test::CupsServer cups;
  fulfil::test::LoopbackPrinter printer(fulfil::test::LoopbackPrinter::Options::switched_off());
  const auto port = printer.port();
  cups.add_queue("zebra", "socket://127.0.0.1:" + std::to_string(port));
  Harness h;
  auto p = make_printer(h.io, h.workers, cups_config(cups, "zebra"));

  const auto r = h.submit(*p, request("PJ-43"));
  REQUIRE_MESSAGE(r.ok, r.error);
  REQUIRE(r.external_id);
  h.run_until([] { return false; }, 1500ms);  // the backend tries and fails to connect
  const auto waiting = h.job_state(*p, *r.external_id);
  CHECK((waiting.state == ExternalJobState::pending ||
         waiting.state == ExternalJobState::processing));
  const auto s = h.status(*p);
  MESSAGE("printer down: ", printer_state_name(s.state), " [", joined(s.reasons), "] ", s.detail);

  printer.open();
  const auto job = wait_for_job_end(h, *p, *r.external_id);
  CHECK(job.state == ExternalJobState::completed);
  REQUIRE(h.run_until([&] { return printer.connections().size() >= 1; }, 5s));
  h.run_until([] { return false; }, 300ms);
  CHECK(printer.received() == label);  // exactly once
}

TEST_CASE("CUPS failures: no such queue is final, an unreachable server is retryable") {
  fulfil::test::CupsServer cups;
  Harness h;
  auto missing = make_printer(h.io, h.workers, cups_config(cups, "nosuchqueue"));
  const auto r = h.submit(*missing, request("PJ-44"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error.find("no CUPS queue \"nosuchqueue\" on " + cups.address()) == 0);
  MESSAGE(r.error);
  CHECK(h.status(*missing).detail.find("no CUPS queue") == 0);

  fulfil::test::LoopbackPrinter printer;
  cups.add_queue("zebra", "socket://127.0.0.1:" + std::to_string(printer.port()));
  auto p = make_printer(h.io, h.workers, cups_config(cups, "zebra"));
  cups.stop();
  const auto down = h.submit(*p, request("PJ-45"));
  CHECK_FALSE(down.ok);
  CHECK(down.retryable);
  CHECK(down.error.find("cannot reach CUPS at " + cups.address()) == 0);
  MESSAGE(down.error);
  const auto s = h.status(*p);
  CHECK(s.state == PrinterState::offline);
  CHECK(h.job_state(*p, 1).state == ExternalJobState::unknown);
  std::string error;
  CHECK(cups_destinations(cups.address(), &error).empty());
  CHECK(error.find("cannot reach CUPS") == 0);

  cups.start();  // the queue is still there
  const auto again = h.submit(*p, request("PJ-45"));
  REQUIRE_MESSAGE(again.ok, again.error);
  CHECK(wait_for_job_end(h, *p, *again.external_id).state == ExternalJobState::completed);
  REQUIRE(h.run_until([&] { return printer.received() == label; }, 10s));

  // Destroyed while libcups is at work on a worker: the handler still runs, once.
  std::optional<SubmitResult> late;
  int calls = 0;
  auto gone = make_printer(h.io, h.workers, cups_config(cups, "zebra"));
  gone->submit(request("PJ-47"), [&](SubmitResult r) {
    ++calls;
    late = r;
  });
  gone.reset();
  REQUIRE(h.run_until([&] { return late.has_value(); }, 10s));
  CHECK(late->ok);
  REQUIRE(h.run_until([&] { return printer.received() == label + label; }, 10s));
  CHECK(calls == 1);
}

TEST_CASE("a CUPS queue reports media-empty from its device") {
  fulfil::test::CupsServer cups;
  REQUIRE_MESSAGE(!fulfil::test::CupsServer::default_test_backend().empty(),
                  "FULFIL_CUPS_TEST_BACKEND is not set");
  cups.add_queue("labels", "fulfiltest:/media-empty");
  Harness h;
  auto p = make_printer(h.io, h.workers, cups_config(cups, "labels"));
  const auto r = h.submit(*p, request("PJ-46"));
  REQUIRE_MESSAGE(r.ok, r.error);

  PrinterStatus s;
  h.run_until(
      [&] {
        s = h.status(*p);
        // The reason comes while the backend runs; the stop when it exits.
        return contains(s.reasons, "media-empty-error") && s.state == PrinterState::stopped;
      },
      15s);
  CHECK_MESSAGE(contains(s.reasons, "media-empty-error"), joined(s.reasons), cups.error_log());
  CHECK(s.state == PrinterState::stopped);  // the backend stopped the queue
  CHECK(s.detail == "Out of labels");
  const auto job = h.job_state(*p, *r.external_id);
  CHECK(job.state == ExternalJobState::pending);  // kept for when labels are loaded
}
