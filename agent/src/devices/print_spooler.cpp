#include "devices/print_spooler.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <functional>
#include <map>

#include "config/log.hpp"
#include "drivers/documents.hpp"
#include "drivers/printer.hpp"
#include "order_documents.hpp"

namespace fulfil::agent {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// One printer and the job it is sending. Jobs go one at a time so a desk's labels come
// out in the order they were asked for.
struct Lane {
  Lane(asio::io_context& io, std::unique_ptr<drivers::Printer> p)
      : printer(std::move(p)), retry(io), status_timer(io), record_retry(io) {}
  std::unique_ptr<drivers::Printer> printer;
  asio::steady_timer retry;
  asio::steady_timer status_timer;
  asio::steady_timer record_retry;
  // What happened to jobs that the database has not taken yet (a full disk), in order.
  std::deque<std::function<void()>> unrecorded;
  bool sending = false;
  bool waiting = false;  // for `retry` after a failed attempt
  int backoff_ms = 0;
  std::string last_error;
  drivers::PrinterStatus status;
  std::int64_t printed = 0;
};

bool is_alarming(const drivers::PrinterStatus& s) {
  if (s.state == drivers::PrinterState::offline || s.state == drivers::PrinterState::stopped)
    return true;
  for (const auto& r : s.reasons)
    if (r.ends_with("-error")) return true;
  return false;
}

}  // namespace

struct PrintSpooler::Impl : std::enable_shared_from_this<PrintSpooler::Impl> {
  Impl(asio::io_context& io, Store& store, const config::Settings& settings,
       std::function<void()> changed)
      : io(io), store(store), settings(settings), changed(std::move(changed)), workers(2) {
    for (const auto& entry : settings.printers) {
      auto config = drivers::printer_config_from(entry);
      lanes.emplace(config.id,
                    std::make_unique<Lane>(io, drivers::make_printer(io, workers, config)));
    }
  }

  asio::io_context& io;
  Store& store;
  const config::Settings& settings;
  std::function<void()> changed;
  asio::thread_pool workers;  // libcups blocks: its calls run here
  std::map<std::string, std::unique_ptr<Lane>> lanes;
  bool running = false;
  int in_flight = 0;  // printer calls whose answer has not come back yet

  std::int64_t now() const { return now_ms(); }
  void notify() {
    if (changed) changed();
  }

  // --- sending ---------------------------------------------------------------------------

  // --- recording what happened -----------------------------------------------------------

  // A job's progress is written as it happens. A write the database refuses (a full disk)
  // is kept, in order, and tried again until it goes in; the lane sends nothing new
  // meanwhile, so what the printer did and what the queue says never drift apart, and no
  // storage failure escapes to the event loop.
  void record(Lane& lane, std::function<void()> write) {
    lane.unrecorded.push_back(std::move(write));
    if (lane.unrecorded.size() == 1) flush(lane);
  }

  void flush(Lane& lane) {
    while (!lane.unrecorded.empty()) {
      try {
        lane.unrecorded.front()();
      } catch (const StorageFailure& e) {
        storage_failed(lane, e);
        lane.record_retry.expires_after(std::chrono::seconds(1));
        lane.record_retry.async_wait([self = weak_from_this(), &lane](const auto& ec) {
          auto s = self.lock();
          if (ec || !s) return;
          s->flush(lane);
          s->pump(lane);
        });
        return;
      }
      lane.unrecorded.pop_front();
    }
  }

  void storage_failed(Lane& lane, const StorageFailure& e) {
    const std::string why = "cannot record print progress: " + storage_failure_message(e);
    if (lane.last_error != why)
      log::error("print", "the print queue cannot be written; the lane waits",
                 {{"printer", lane.printer->config().id}, {"error", e.what()}});
    lane.last_error = why;
  }

  // --- sending ---------------------------------------------------------------------------

  void pump(Lane& lane) {
    if (!running || lane.sending || lane.waiting || !lane.unrecorded.empty()) return;
    auto job = store.print_jobs().next_queued(lane.printer->config().id);
    if (!job) return;
    try {
      store.print_jobs().mark_sending(job->id, now());  // committed before a byte is sent
    } catch (const StorageFailure& e) {
      storage_failed(lane, e);  // not sent: it stays queued
      return wait_and_retry(lane);
    }
    lane.sending = true;
    drivers::PrintRequest request{
        job->name(), title_of(*job),
        job->format == "pdf" ? drivers::PrinterLanguage::pdf : drivers::PrinterLanguage::zpl,
        std::move(job->document), job->copies};
    ++in_flight;
    lane.printer->submit(std::move(request),
                         [self = weak_from_this(), &lane, id = job->id](drivers::SubmitResult r) {
                           if (auto s = self.lock()) {
                             --s->in_flight;
                             s->submitted(lane, id, r);
                           }
                         });
  }

  static std::string title_of(const PrintJob& job) {
    return job.kind + (job.order_id.empty() ? "" : " " + job.order_id);
  }

  void submitted(Lane& lane, std::int64_t id, const drivers::SubmitResult& r) {
    lane.sending = false;
    if (!running) return;  // the job stays "sending": the next start resumes it
    const auto& printer = lane.printer->config().id;
    if (r.ok) {
      lane.backoff_ms = 0;
      lane.last_error.clear();
      if (r.external_id) {
        record(lane, [this, id, external = *r.external_id, at = now()] {
          store.print_jobs().mark_submitted(id, external, at);
        });
        track(lane, id, *r.external_id);
      } else {
        printed(lane, id);
      }
    } else if (r.retryable) {
      record(lane, [this, id, error = r.error, at = now()] {
        store.print_jobs().mark_retry(id, error, at);
      });
      lane.last_error = r.error;
      log::warn("print", "printer unreachable; the job waits",
                {{"printer", printer}, {"job", id}, {"error", r.error}});
      wait_and_retry(lane);
      refresh_status(lane);
    } else {
      record(lane, [this, id, error = r.error, at = now()] {
        store.print_jobs().mark_failed(id, error, at);
      });
      lane.last_error = r.error;
      log::error("print", "job refused", {{"printer", printer}, {"job", id}, {"error", r.error}});
    }
    notify();
    pump(lane);
  }

  void printed(Lane& lane, std::int64_t id) {
    record(lane, [this, id, at = now()] { store.print_jobs().mark_printed(id, at); });
    ++lane.printed;
    log::info("print", "printed", {{"printer", lane.printer->config().id}, {"job", id}});
  }

  void wait_and_retry(Lane& lane) {
    const auto& p = settings.printing;
    lane.backoff_ms =
        lane.backoff_ms == 0 ? p.retry_initial_ms : std::min(lane.backoff_ms * 2, p.retry_max_ms);
    lane.waiting = true;
    lane.retry.expires_after(std::chrono::milliseconds(lane.backoff_ms));
    lane.retry.async_wait([self = weak_from_this(), &lane](const boost::system::error_code& ec) {
      auto s = self.lock();
      if (ec || !s) return;
      lane.waiting = false;
      s->pump(lane);
    });
  }

  // --- following CUPS jobs ---------------------------------------------------------------

  void track(Lane& lane, std::int64_t id, std::int64_t external_id) {
    auto timer = std::make_shared<asio::steady_timer>(io);
    timer->expires_after(std::chrono::milliseconds(settings.printing.job_poll_ms));
    timer->async_wait([self = weak_from_this(), &lane, id, external_id,
                       timer](const boost::system::error_code& ec) {
      auto s = self.lock();
      if (ec || !s || !s->running) return;
      ++s->in_flight;
      lane.printer->job_state(
          static_cast<int>(external_id),
          [self = s->weak_from_this(), &lane, id, external_id](drivers::ExternalJob job) {
            if (auto s = self.lock()) {
              --s->in_flight;
              s->tracked(lane, id, external_id, job);
            }
          });
    });
  }

  void tracked(Lane& lane, std::int64_t id, std::int64_t external_id,
               const drivers::ExternalJob& job) {
    using S = drivers::ExternalJobState;
    if (!running) return;
    if (job.state == S::completed) {
      printed(lane, id);
      notify();
    } else if (job.state == S::aborted || job.state == S::cancelled) {
      const std::string why = "CUPS job " + std::to_string(external_id) + " " +
                              std::string(drivers::external_job_state_name(job.state)) +
                              (job.reasons.empty() ? "" : ": " + job.reasons);
      record(lane, [this, id, why, at = now()] { store.print_jobs().mark_failed(id, why, at); });
      lane.last_error = why;
      notify();
    } else {
      track(lane, id, external_id);  // pending, processing, stopped (e.g. out of labels)
    }
  }

  // --- after a restart -------------------------------------------------------------------

  void resume() {
    for (const auto& job : store.print_jobs().in_flight()) {
      auto lane = lanes.find(job.printer);
      if (lane == lanes.end()) {
        try {
          store.print_jobs().mark_failed(
              job.id, "printer " + job.printer + " is no longer configured", now());
        } catch (const StorageFailure& e) {
          log::error("print", "cannot record a job of a printer no longer configured",
                     {{"job", job.id}, {"error", e.what()}});  // the next start tries again
        }
        continue;
      }
      if (job.state == PrintJobState::submitted && job.external_id) {
        track(*lane->second, job.id, *job.external_id);
        continue;
      }
      // "sending" when fulfild stopped: CUPS may have the job already (it carries our job's
      // name); otherwise it goes out again.
      lane->second->sending = true;
      ++in_flight;
      lane->second->printer->find_job(job.name(), [self = weak_from_this(), &l = *lane->second,
                                                   id = job.id](std::optional<int> external_id) {
        auto s = self.lock();
        if (!s) return;
        --s->in_flight;
        l.sending = false;
        if (!s->running) return;  // handed over: the next lanes resume it
        if (external_id) {
          s->record(l, [s = s.get(), id, external = *external_id, at = s->now()] {
            s->store.print_jobs().mark_submitted(id, external, at);
          });
          s->track(l, id, *external_id);
        } else {
          s->record(l, [s = s.get(), id, at = s->now()] {
            s->store.print_jobs().mark_retry(id, "resumed after a restart", at);
          });
        }
        s->pump(l);
      });
    }
  }

  // --- printer state ---------------------------------------------------------------------

  void refresh_status(Lane& lane) {
    ++in_flight;
    lane.printer->query_status([self = weak_from_this(), &lane](drivers::PrinterStatus st) {
      auto s = self.lock();
      if (!s) return;
      --s->in_flight;
      const bool was = is_alarming(lane.status);
      const bool changed_state = st.state != lane.status.state || st.reasons != lane.status.reasons;
      lane.status = std::move(st);
      if (is_alarming(lane.status) != was)
        log::warn("print", is_alarming(lane.status) ? "printer alarm" : "printer alarm cleared",
                  {{"printer", lane.printer->config().id},
                   {"state", drivers::printer_state_name(lane.status.state)},
                   {"detail", lane.status.detail}});
      if (changed_state) s->notify();
    });
  }

  void start() {
    running = true;
    resume();
    for (auto& [id, lane] : lanes) {
      watch_status(*lane);
      pump(*lane);
    }
  }

  void stop() {
    running = false;
    for (auto& [id, lane] : lanes) {
      lane->retry.cancel();
      lane->status_timer.cancel();
      lane->record_retry.cancel();
    }
  }

  // The next lanes start once the old ones have no answer outstanding: a job the old lane
  // was sending is resumed by the next (found in CUPS or sent again), never sent by both.
  static void hand_over(std::shared_ptr<Impl> old, const std::shared_ptr<Impl>& next) {
    if (old->in_flight == 0) {
      old.reset();  // its worker threads are idle: joining them does not wait
      next->start();
      next->notify();
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(next->io, std::chrono::milliseconds(20));
    timer->async_wait([timer, old = std::move(old),
                       next = std::weak_ptr<Impl>(next)](const boost::system::error_code& ec) {
      if (auto n = next.lock(); n && !ec) hand_over(old, n);
    });
  }

  void watch_status(Lane& lane) {
    refresh_status(lane);
    lane.status_timer.expires_after(std::chrono::seconds(10));
    lane.status_timer.async_wait(
        [self = weak_from_this(), &lane](const boost::system::error_code& ec) {
          auto s = self.lock();
          if (!ec && s && s->running) s->watch_status(lane);
        });
  }
};

PrintSpooler::PrintSpooler(asio::io_context& io, Store& store, const config::Settings& settings,
                           std::function<void()> changed)
    : impl_(std::make_shared<Impl>(io, store, settings, std::move(changed))) {}

PrintSpooler::~PrintSpooler() {
  stop();
  impl_->workers.join();  // libcups calls in flight finish before the printers go
}

void PrintSpooler::start() {
  impl_->start();
}

void PrintSpooler::stop() {
  impl_->stop();
}

void PrintSpooler::reconfigure() {
  auto old = impl_;
  old->stop();
  impl_ = std::make_shared<Impl>(old->io, old->store, old->settings, old->changed);
  Impl::hand_over(std::move(old), impl_);
}

void PrintSpooler::kick() {
  for (auto& [id, lane] : impl_->lanes) impl_->pump(*lane);
}

}  // namespace fulfil::agent

namespace fulfil::agent {
namespace {

// The printer for `kind` at `station`, from stations[].documents.
std::string station_printer(const config::Settings& settings, const std::string& station,
                            const std::string& kind) {
  for (const auto& s : settings.stations)
    if (s["id"] == station && s.contains("documents")) return s["documents"].value(kind, "");
  return "";
}

}  // namespace

// The carrier's own label when the cloud sent one for this package (byte for byte), else
// the document rendered from the store's records.
Result<std::string> PrintSpooler::document_bytes(drivers::DocumentKind kind,
                                                 const DocumentRequest& request, int package_no,
                                                 const drivers::PrinterConfig& printer,
                                                 drivers::DocumentFormat format,
                                                 const CommandContext& ctx) {
  if (kind == drivers::DocumentKind::shipping_label)
    if (auto label = impl_->store.print_jobs().carrier_label(request.order_id, package_no)) {
      const std::string takes(drivers::document_format_name(format));
      if (label->format != takes)
        return fail(DomainErrc::invalid_argument, "the carrier's label for " + request.order_id +
                                                      " package " + std::to_string(package_no) +
                                                      " is " + label->format + "; printer " +
                                                      printer.id + " takes " + takes);
      return std::move(label->document);
    }
  printing::DocumentFacts facts{impl_->settings.store.id,
                                impl_->settings.store.name,
                                package_no,
                                request.return_ref,
                                printer.dpi,
                                ctx.now_ms};
  auto doc = printing::order_document(impl_->store, kind, request.order_id, facts);
  if (!doc) return unexpected(doc.error());
  auto bytes = drivers::render_document(*doc, format);
  if (!bytes) return fail(DomainErrc::invalid_argument, bytes.error().message);
  return std::move(*bytes);
}

Result<std::vector<PrintJob>> PrintSpooler::print_document(const DocumentRequest& request,
                                                           const CommandContext& ctx) {
  const auto kind = drivers::document_kind_from(request.kind);
  if (!kind) return fail(DomainErrc::invalid_argument, "no document kind '" + request.kind + "'");
  if (*kind == drivers::DocumentKind::action_sheet)
    return fail(DomainErrc::invalid_argument, printing::kActionSheetIsNoOrders);
  std::string printer = request.printer;
  if (printer.empty()) {
    if (request.station.empty())
      return fail(DomainErrc::invalid_argument,
                  "name a printer: this terminal is not at a station with printers");
    printer = station_printer(impl_->settings, request.station, request.kind);
    if (printer.empty())
      return fail(DomainErrc::invalid_argument,
                  "station " + request.station + " has no printer for " + request.kind +
                      " (configure stations[].documents." + request.kind + ")");
  }
  auto lane = impl_->lanes.find(printer);
  if (lane == impl_->lanes.end()) return fail(DomainErrc::not_found, "no printer " + printer);
  const auto& pc = lane->second->printer->config();
  const auto format = pc.language == drivers::PrinterLanguage::pdf ? drivers::DocumentFormat::pdf
                                                                   : drivers::DocumentFormat::zpl;
  // Shipping labels and packing slips: one per package.
  int packages = 1;
  if (*kind == drivers::DocumentKind::shipping_label ||
      *kind == drivers::DocumentKind::packing_slip) {
    auto order = impl_->store.orders().find(request.order_id);
    if (!order) return fail(DomainErrc::not_found, "no fulfilment order " + request.order_id);
    packages = std::max<int>(1, static_cast<int>(order->packages.size()));
  }
  std::vector<PrintJob> jobs;
  for (int package_no = 1; package_no <= packages; ++package_no) {
    auto bytes = document_bytes(*kind, request, package_no, pc, format, ctx);
    if (!bytes) return unexpected(bytes.error());
    auto job =
        impl_->store.print_jobs().enqueue({request.kind, request.order_id, request.station, printer,
                                           std::string(drivers::document_format_name(format)),
                                           std::move(*bytes), request.copies, std::nullopt},
                                          ctx);
    if (!job) return unexpected(job.error());
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

Result<PrintJob> PrintSpooler::print_test_label(const std::string& printer,
                                                const CommandContext& ctx) {
  auto lane = impl_->lanes.find(printer);
  if (lane == impl_->lanes.end()) return fail(DomainErrc::not_found, "no printer " + printer);
  const auto& pc = lane->second->printer->config();
  drivers::OrderDocument doc;
  doc.kind = drivers::DocumentKind::pickup_shelf_label;
  doc.store_id = impl_->settings.store.id;
  doc.store_name =
      impl_->settings.store.name.empty() ? "fulfild test label" : impl_->settings.store.name;
  doc.order_id = "TEST";
  doc.order_ref = "Test " + printer;
  doc.customer_name = "Zoë Ångström राजेश";  // accents and Devanagari show the font works
  doc.shelf = "TEST-1";
  doc.printed_at_ms = ctx.now_ms;
  doc.dpi = pc.dpi;
  const auto format = pc.language == drivers::PrinterLanguage::pdf ? drivers::DocumentFormat::pdf
                                                                   : drivers::DocumentFormat::zpl;
  auto bytes = drivers::render_document(doc, format);
  if (!bytes) return fail(DomainErrc::invalid_argument, bytes.error().message);
  return impl_->store.print_jobs().enqueue(
      {"test_label", "", "", printer, std::string(drivers::document_format_name(format)),
       std::move(*bytes), 1, std::nullopt},
      ctx);
}

Result<PrintJob> PrintSpooler::print_action_sheet(const std::string& station,
                                                  const std::string& printer,
                                                  const CommandContext& ctx) {
  std::string to = printer;
  for (const char* kind : {"pick_list", "packing_slip", "shipping_label"})
    if (to.empty() && !station.empty()) to = station_printer(impl_->settings, station, kind);
  if (to.empty())
    return fail(DomainErrc::invalid_argument,
                station.empty() ? std::string("name a printer: this terminal is not at a station")
                                : "station " + station +
                                      " has no printer for pick lists, packing slips or shipping "
                                      "labels: name a printer");
  auto lane = impl_->lanes.find(to);
  if (lane == impl_->lanes.end()) return fail(DomainErrc::not_found, "no printer " + to);
  const auto& pc = lane->second->printer->config();
  const auto format = pc.language == drivers::PrinterLanguage::pdf ? drivers::DocumentFormat::pdf
                                                                   : drivers::DocumentFormat::zpl;
  const printing::DocumentFacts facts{
      impl_->settings.store.id, impl_->settings.store.name, 1, "", pc.dpi, ctx.now_ms};
  auto bytes = drivers::render_document(
      printing::action_sheet_document(station, impl_->settings.orders.box_types, facts), format);
  if (!bytes) return fail(DomainErrc::invalid_argument, bytes.error().message);
  return impl_->store.print_jobs().enqueue(
      {"action_sheet", "", station, to, std::string(drivers::document_format_name(format)),
       std::move(*bytes), 1, std::nullopt},
      ctx);
}

Result<std::string> PrintSpooler::render_action_sheet(const std::string& station,
                                                      const std::string& format) {
  if (format != "zpl" && format != "pdf")
    return fail(DomainErrc::invalid_argument, "format must be zpl or pdf, not '" + format + "'");
  const printing::DocumentFacts facts{
      impl_->settings.store.id, impl_->settings.store.name, 1, "", 203, now_ms()};
  auto bytes = drivers::render_document(
      printing::action_sheet_document(station, impl_->settings.orders.box_types, facts),
      format == "pdf" ? drivers::DocumentFormat::pdf : drivers::DocumentFormat::zpl);
  if (!bytes) return fail(DomainErrc::invalid_argument, bytes.error().message);
  return std::move(*bytes);
}

Result<std::string> PrintSpooler::render(const DocumentRequest& request,
                                         const std::string& format) {
  const auto kind = drivers::document_kind_from(request.kind);
  if (!kind) return fail(DomainErrc::invalid_argument, "no document kind '" + request.kind + "'");
  if (format != "zpl" && format != "pdf")
    return fail(DomainErrc::invalid_argument, "format must be zpl or pdf, not '" + format + "'");
  printing::DocumentFacts facts{
      impl_->settings.store.id, impl_->settings.store.name, 1, request.return_ref, 203, now_ms()};
  auto doc = printing::order_document(impl_->store, *kind, request.order_id, facts);
  if (!doc) return unexpected(doc.error());
  auto bytes = drivers::render_document(
      *doc, format == "pdf" ? drivers::DocumentFormat::pdf : drivers::DocumentFormat::zpl);
  if (!bytes) return fail(DomainErrc::invalid_argument, bytes.error().message);
  return std::move(*bytes);
}

json PrintSpooler::status() const {
  json out = json::array();
  for (const auto& [id, lane] : impl_->lanes) {
    const auto& c = lane->printer->config();
    const auto& st = lane->status;
    auto waiting = impl_->store.print_jobs().list({PrintJobState::queued, "", id, 1000});
    out.push_back({{"id", id},
                   {"kind", drivers::printer_kind_name(c.kind)},
                   {"language", drivers::printer_language_name(c.language)},
                   {"state", drivers::printer_state_name(st.state)},
                   {"reasons", st.reasons},
                   {"detail", st.detail},
                   {"queued", waiting.size()},
                   {"printed", lane->printed},
                   {"last_error", lane->last_error}});
  }
  return out;
}

std::vector<std::string> PrintSpooler::alarms() const {
  std::vector<std::string> out;
  for (const auto& [id, lane] : impl_->lanes) {
    const auto& st = lane->status;
    if (!is_alarming(st)) continue;
    std::string reasons;
    for (const auto& r : st.reasons) reasons += (reasons.empty() ? "" : ", ") + r;
    out.push_back("printer " + id + ": " + std::string(drivers::printer_state_name(st.state)) +
                  (reasons.empty() ? "" : " (" + reasons + ")") +
                  (st.detail.empty() ? "" : ": " + st.detail));
  }
  // A failed job needs someone to reprint it; after a day it is no longer news.
  const auto day_ago = now_ms() - 24 * 3600 * 1000;
  if (auto failed = impl_->store.print_jobs().count(PrintJobState::failed, day_ago); failed > 0)
    out.push_back("print jobs: " + std::to_string(failed) +
                  " failed in the last 24 h (reprint them by id)");
  return out;
}

}  // namespace fulfil::agent
