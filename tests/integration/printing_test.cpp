// Printing through the real fulfild process: a label printer on 127.0.0.1 that is down and
// comes back (raw TCP, the job waits queued and prints once), a private CUPS scheduler
// (tests/support/cups_server) whose raw queue sends to a loopback "printer", fulfild killed
// with SIGKILL while CUPS holds its job, a crash between CUPS accepting a job and fulfild
// recording its id (the job is found by name, not sent again), and a queue whose device
// reports that it is out of labels. Every wait has a deadline; every server stops itself.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "cups_server.hpp"
#include "daemon_harness.hpp"
#include "loopback.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using fulfil::test::ChildProcess;
using fulfil::test::contains;
using fulfil::test::Daemon;
using fulfil::test::eventually;
using fulfil::test::fulfilctl_json;
using fulfil::test::health;
using fulfil::test::LoopbackPrinter;
using fulfil::test::NotifySocket;
using fulfil::test::ready_timeout;
using fulfil::test::run_fulfilctl;
using fulfil::test::scaled;
using fulfil::test::write_file;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// `fulfilctl print test PRINTER`: the queued job's name ("PJ-1").
std::string print_test_label(const Daemon& d, const std::string& printer) {
  const json job = fulfilctl_json(d, {"print", "test", printer});
  REQUIRE_MESSAGE(job.contains("id"), job.dump());
  CHECK(job["printer"] == printer);
  return job["id"];
}

json job_of(const json& jobs, const std::string& id) {
  for (const auto& j : jobs["jobs"])
    if (j["id"] == id) return j;
  return nullptr;
}

// Polls `fulfilctl jobs --json` until `done(job)`; the last state of the job seen.
template <class F>
json wait_for_job(const Daemon& d, const std::string& id, std::chrono::milliseconds timeout,
                  F&& done) {
  const auto deadline = Clock::now() + timeout;
  json job = job_of(fulfilctl_json(d, {"jobs"}), id);
  while (!(job.is_object() && done(job)) && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    job = job_of(fulfilctl_json(d, {"jobs"}), id);
  }
  return job;
}

template <class F>
json poll_health(int port, std::chrono::milliseconds timeout, F&& done) {
  const auto deadline = Clock::now() + timeout;
  json h = health(port);
  while (!done(h) && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    h = health(port);
  }
  return h;
}

std::string alarms_text(const json& h) {
  if (!h.contains("printing")) return "";
  std::string all;
  for (const auto& a : h["printing"]["alarms"]) all += a.get<std::string>() + "\n";
  return all;
}

// --- the database, read (and, with fulfild stopped, changed) with plain SQLite -------------

struct JobRow {
  std::string state;
  std::string document;
  std::optional<std::int64_t> external_id;
};

std::optional<JobRow> job_row(const std::string& state_dir, const std::string& name) {
  const auto id = std::stoll(name.substr(name.find('-') + 1));
  sqlite3* db = nullptr;
  std::optional<JobRow> row;
  if (sqlite3_open_v2((state_dir + "/fulfild.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT state, document, external_id FROM print_job WHERE id = ?",
                           -1, &s, nullptr) == SQLITE_OK) {
      sqlite3_bind_int64(s, 1, id);
      if (sqlite3_step(s) == SQLITE_ROW) {
        JobRow r;
        r.state = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        r.document.assign(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                          static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) r.external_id = sqlite3_column_int64(s, 2);
        row = std::move(r);
      }
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return row;
}

// What a crash leaves between "sending" being committed and the CUPS job id being recorded.
void set_job_sending_without_id(const std::string& state_dir, const std::string& name) {
  const auto id = std::stoll(name.substr(name.find('-') + 1));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((state_dir + "/fulfild.db").c_str(), &db, SQLITE_OPEN_READWRITE,
                          nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "UPDATE print_job SET state = 'sending', external_id = NULL, "
                             "printed_at = NULL WHERE id = ?",
                             -1, &s, nullptr) == SQLITE_OK);
  sqlite3_bind_int64(s, 1, id);
  CHECK(sqlite3_step(s) == SQLITE_DONE);
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

// --- a label printer on 127.0.0.1 ---------------------------------------------------------

// One ZPL label: starts with ^XA, one ^XA...^XZ block.
void check_one_label(const std::string& bytes) {
  CHECK(bytes.rfind("^XA", 0) == 0);
  CHECK(occurrences(bytes, "^XA") == 1);
  CHECK(occurrences(bytes, "^XZ") == 1);
}

json printer_entry(const json& printers, const std::string& id) {
  for (const auto& p : printers["printers"])
    if (p["id"] == id) return p;
  return nullptr;
}

// The CUPS cases need cupsd and lpadmin on the host, and root (cupsd runs backends owned
// by root only; see cups_server.hpp). Without them they say so and are skipped.
bool cups_available() {
  if (fulfil::test::emulated()) {
    MESSAGE("SKIPPED under qemu-user: the CUPS cases run in the native build");
    return false;
  }
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: the CUPS cases need root for a private cupsd");
    return false;
  }
  for (const char* p : {"/usr/sbin/cupsd", "/usr/sbin/lpadmin"})
    if (::access(p, X_OK) != 0) {
      MESSAGE("SKIPPED: the CUPS cases need " << p);
      return false;
    }
  return true;
}

json cups_printer_config(const fulfil::test::CupsServer& cups, const std::string& id,
                         const std::string& queue) {
  return {{"id", id},
          {"kind", "cups"},
          {"cups_server", cups.address()},
          {"cups_queue", queue},
          {"timeout_ms", 5000}};
}

// Fast retries and CUPS polling so the waits below stay short.
const json kPrinting = {{"retry_initial_ms", 200}, {"retry_max_ms", 1000}, {"job_poll_ms", 200}};

// Whether fulfild has a file mapped whose path contains `name` (the printing module,
// libcairo, libcups): printers that need none must leave them out of its address space.
bool maps(const Daemon& d, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(d.child->pid()) + "/maps");
  for (std::string line; std::getline(in, line);)
    if (contains(line, name)) return true;
  return false;
}

json pdf_file_printer(const std::string& directory) {
  return {{"id", "desk1-pdf"}, {"kind", "file"}, {"language", "pdf"}, {"directory", directory}};
}

}  // namespace

TEST_CASE("raw TCP: a job for a printer that is down waits queued, and prints once it is up") {
  fulfil::test::LoopbackPrinter printer(fulfil::test::LoopbackPrinter::Options::switched_off());
  const auto port = printer.port();
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, json{{"printers",
                           {{{"id", "desk1-zebra"},
                             {"kind", "raw_tcp"},
                             {"host", "127.0.0.1"},
                             {"port", port},
                             {"timeout_ms", 1000}}}},
                          {"printing", kPrinting}}
                         .dump());
  Daemon d(config, dir.path() + "/state");
  // A raw TCP label printer takes ZPL: the printing module (cairo, pango, libcups) stays out.
  CHECK_FALSE(maps(d, "fulfil_printing.so"));
  CHECK_FALSE(maps(d, "libcairo"));
  CHECK_FALSE(maps(d, "libcups"));

  const std::string id = print_test_label(d, "desk1-zebra");
  const json waiting = wait_for_job(d, id, scaled(10s), [](const json& j) {
    return j["attempts"].get<int>() >= 1 && j["state"] == "queued";
  });
  REQUIRE_MESSAGE(waiting.is_object(), id << " not listed");
  CHECK(waiting["state"] == "queued");
  CHECK(waiting["attempts"].get<int>() >= 1);
  CHECK_MESSAGE(contains(waiting["last_error"].get<std::string>(),
                         "cannot connect to 127.0.0.1:" + std::to_string(port)),
                waiting.dump());

  // /health: the printer is an alarm while it cannot be reached.
  json h = poll_health(d.port, scaled(10s),
                       [](const json& h) { return contains(alarms_text(h), "desk1-zebra"); });
  REQUIRE_MESSAGE(h.contains("printing"), h.dump());
  CHECK_MESSAGE(contains(alarms_text(h), "printer desk1-zebra: offline"), h.dump());
  const json zebra = printer_entry(fulfilctl_json(d, {"printers"}), "desk1-zebra");
  CHECK_MESSAGE(zebra["state"] == "offline", zebra.dump());
  const auto attempts_before = waiting["attempts"].get<int>();

  printer.open();
  const json printed =
      wait_for_job(d, id, scaled(15s), [](const json& j) { return j["state"] == "printed"; });
  CHECK_MESSAGE(printed["state"] == "printed", printed.dump() << "\n" << d.child->stderr_text());
  CHECK(printed["attempts"].get<int>() >= attempts_before);
  CHECK(printed["printed_at"].get<std::int64_t>() > 0);
  // The alarm clears by itself (the status is checked again within ~10 s).
  h = poll_health(d.port, scaled(15s),
                  [](const json& h) { return !contains(alarms_text(h), "desk1-zebra"); });
  CHECK_MESSAGE(!contains(alarms_text(h), "desk1-zebra"), h.dump());
  // Once, even with fulfild retrying every second or faster: with fulfild stopped and every
  // connection it opened closed, everything it ever sent has arrived.
  d.stop(SIGTERM);
  REQUIRE(eventually(scaled(5s), [&] { return printer.idle(); }));
  const auto docs = printer.documents();
  REQUIRE_MESSAGE(docs.size() == 1, printer.summary());
  check_one_label(docs[0]);
  const auto row = job_row(d.state, id);
  REQUIRE(row.has_value());
  CHECK(row->state == "printed");
  CHECK(docs[0] == row->document);  // the committed bytes, exactly
}

TEST_CASE("CUPS: fulfild killed with SIGKILL while CUPS holds its job; printed once after") {
  if (!cups_available()) return;
  fulfil::test::CupsServer cups;
  fulfil::test::LoopbackPrinter printer(fulfil::test::LoopbackPrinter::Options::switched_off());
  const auto port = printer.port();
  cups.add_queue("zebra", "socket://127.0.0.1:" + std::to_string(port));
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  const std::string state = dir.path() + "/state";
  write_file(config, json{{"printers", {cups_printer_config(cups, "desk1-cups", "zebra")}},
                          {"printing", kPrinting}}
                         .dump());
  std::string id;
  std::int64_t cups_id = 0;
  {
    Daemon d(config, state);
    id = print_test_label(d, "desk1-cups");
    // CUPS accepted it; its socket backend keeps trying the printer, which is down.
    const json submitted =
        wait_for_job(d, id, scaled(15s), [](const json& j) { return j["state"] == "submitted"; });
    REQUIRE_MESSAGE(submitted["state"] == "submitted", submitted.dump() << "\n"
                                                                        << d.child->stderr_text());
    REQUIRE(submitted["external_id"].is_number_integer());
    cups_id = submitted["external_id"];
    std::this_thread::sleep_for(500ms);
    const json still = job_of(fulfilctl_json(d, {"jobs"}), id);
    CHECK(still["state"] == "submitted");  // not printed: nothing has received it
    d.stop(SIGKILL);
  }
  const auto row = job_row(state, id);
  REQUIRE(row.has_value());
  CHECK(row->state == "submitted");
  CHECK(row->external_id == cups_id);

  printer.open();
  Daemon d(config, state);
  // CUPS' socket backend tries again every few seconds (5, 10, 15...): allow for several.
  const json printed =
      wait_for_job(d, id, scaled(60s), [](const json& j) { return j["state"] == "printed"; });
  CHECK_MESSAGE(printed["state"] == "printed", printed.dump() << "\n"
                                                              << d.child->stderr_text() << "\n"
                                                              << cups.error_log());
  CHECK(printed["external_id"] == cups_id);
  REQUIRE(eventually(scaled(10s), [&] { return printer.documents().size() >= 1; }));
  std::this_thread::sleep_for(1000ms);
  const auto docs = printer.documents();
  REQUIRE_MESSAGE(docs.size() == 1, printer.summary());  // CUPS delivered once; not resent
  check_one_label(docs[0]);
  CHECK(docs[0] == row->document);
  d.stop(SIGTERM);
}

TEST_CASE("CUPS: a crash between CUPS accepting a job and recording its id; found by name") {
  if (!cups_available()) return;
  fulfil::test::CupsServer cups;
  fulfil::test::LoopbackPrinter printer;
  cups.add_queue("zebra", "socket://127.0.0.1:" + std::to_string(printer.port()));
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  const std::string state = dir.path() + "/state";
  write_file(config, json{{"printers", {cups_printer_config(cups, "desk1-cups", "zebra")}},
                          {"printing", kPrinting}}
                         .dump());
  std::string id;
  std::int64_t cups_id = 0;
  {
    Daemon d(config, state);
    id = print_test_label(d, "desk1-cups");
    const json printed =
        wait_for_job(d, id, scaled(30s), [](const json& j) { return j["state"] == "printed"; });
    REQUIRE_MESSAGE(printed["state"] == "printed", printed.dump() << "\n"
                                                                  << d.child->stderr_text());
    cups_id = printed["external_id"];
    d.stop(SIGTERM);
  }
  REQUIRE(eventually(scaled(10s), [&] { return printer.documents().size() == 1; }));
  // As if fulfild had died after CUPS answered Create-Job/Send-Document but before it
  // committed the id: "sending", and no CUPS id.
  set_job_sending_without_id(state, id);
  const auto row = job_row(state, id);
  REQUIRE(row.has_value());
  REQUIRE(row->state == "sending");
  REQUIRE_FALSE(row->external_id.has_value());

  Daemon d(config, state);
  const json printed =
      wait_for_job(d, id, scaled(30s), [](const json& j) { return j["state"] == "printed"; });
  CHECK_MESSAGE(printed["state"] == "printed", printed.dump() << "\n" << d.child->stderr_text());
  CHECK_MESSAGE(printed["external_id"] == cups_id, printed.dump());  // CUPS' own job, by name
  std::this_thread::sleep_for(1500ms);  // a resend would have reached the printer by now
  const auto docs = printer.documents();
  REQUIRE_MESSAGE(docs.size() == 1, printer.summary());
  check_one_label(docs[0]);
  CHECK(docs[0] == row->document);
  d.stop(SIGTERM);
}

TEST_CASE("CUPS: a queue out of labels shows media-empty-error in printers and /health") {
  if (!cups_available()) return;
  REQUIRE_MESSAGE(!fulfil::test::CupsServer::default_test_backend().empty(),
                  "FULFIL_CUPS_TEST_BACKEND is not set");
  fulfil::test::CupsServer cups;
  cups.add_queue("labels", "fulfiltest:/media-empty");
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, json{{"printers", {cups_printer_config(cups, "desk2-labels", "labels")}},
                          {"printing", kPrinting}}
                         .dump());
  Daemon d(config, dir.path() + "/state");
  // The backend reports media-empty when it runs, i.e. when there is a job.
  const std::string id = print_test_label(d, "desk2-labels");

  // fulfild checks each printer's state every 10 s.
  json p;
  const bool seen = eventually(scaled(25s), [&] {
    p = printer_entry(fulfilctl_json(d, {"printers"}), "desk2-labels");
    for (const auto& r : p["reasons"])
      if (r == "media-empty-error") return true;
    return false;
  });
  CHECK_MESSAGE(seen, p.dump() << "\n" << cups.error_log());
  CHECK(p["state"] == "stopped");  // the backend stopped the queue
  CHECK(p["detail"] == "Out of labels");
  const json h = poll_health(d.port, scaled(5s), [](const json& h) {
    return contains(alarms_text(h), "media-empty-error");
  });
  CHECK_MESSAGE(contains(alarms_text(h), "printer desk2-labels: stopped ("), h.dump());
  CHECK_MESSAGE(contains(alarms_text(h), "media-empty-error"), h.dump());
  CHECK_MESSAGE(contains(alarms_text(h), "Out of labels"), h.dump());
  // The job waits in CUPS for labels to be loaded: still tracked, not failed.
  const json job = job_of(fulfilctl_json(d, {"jobs"}), id);
  CHECK(job["state"] == "submitted");
  d.stop(SIGTERM);
}

TEST_CASE("a PDF printer loads the printing module; without it, an alarm says what is missing") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  const std::string out = dir.path() + "/out";
  std::filesystem::create_directories(out);
  write_file(config, json{{"printers", {pdf_file_printer(out)}}, {"printing", kPrinting}}.dump());
  {
    Daemon d(config, dir.path() + "/state");
    CHECK(maps(d, "fulfil_printing.so"));
    const std::string id = print_test_label(d, "desk1-pdf");
    const json printed =
        wait_for_job(d, id, scaled(15s), [](const json& j) { return j["state"] == "printed"; });
    CHECK_MESSAGE(printed["state"] == "printed", printed.dump());
    d.stop(SIGTERM);
  }
  // The package without its module: fulfild still starts, the printer is an alarm naming
  // the missing file, and a PDF is refused with that reason.
  const std::string missing = dir.path() + "/nowhere/fulfil_printing.so";
  Daemon d({"--config", config}, {{"FULFIL_PRINTING_MODULE", missing}}, dir.path() + "/state");
  CHECK_FALSE(maps(d, "fulfil_printing.so"));
  const json h = poll_health(d.port, scaled(10s),
                             [](const json& h) { return contains(alarms_text(h), "desk1-pdf"); });
  CHECK_MESSAGE(contains(alarms_text(h), "printer desk1-pdf: offline"), h.dump());
  CHECK_MESSAGE(contains(alarms_text(h), "fulfil_printing.so is not installed"), h.dump());
  CHECK_MESSAGE(contains(alarms_text(h), missing), h.dump());
  const auto refused = run_fulfilctl(d, {"print", "test", "desk1-pdf"});
  CHECK(refused.rc != 0);
  CHECK_MESSAGE(contains(refused.out + refused.err, "printing module"), refused.err);
}
