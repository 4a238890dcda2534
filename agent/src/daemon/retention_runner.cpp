#include "retention_runner.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "config/clock.hpp"
#include "config/log.hpp"

namespace fulfil::agent {

namespace {
// Pages handed back per step (1 MB at 4 KiB pages): about 9 ms a step, measured.
constexpr int kVacuumStepPages = 256;
}  // namespace

RetentionPolicy retention_policy(const config::Settings& settings) {
  const auto& r = settings.retention;
  return {r.sent_events_days, r.inbox_days, r.closed_orders_days,    r.audit_days,
          r.ledger_days,      r.batch_rows, r.till_transactions_days};
}

RetentionRunner::RetentionRunner(boost::asio::io_context& io, Database& db,
                                 const config::Settings& settings)
    : io_(io),
      db_(db),
      settings_(settings),
      retention_(db, retention_policy(settings)),
      timer_(io) {}

void RetentionRunner::start() {
  stopped_ = false;
  schedule();
}

void RetentionRunner::stop() {
  stopped_ = true;
  timer_.cancel();
}

void RetentionRunner::schedule() {
  timer_.expires_after(std::chrono::seconds(settings_.retention.interval_s));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) begin_pass();
  });
}

void RetentionRunner::begin_pass() {
  // With the disk full, deleting still needs room in the write-ahead log: wait for the
  // disk guard to see room again.
  if (db_.disk_full()) return schedule();
  retention_.set_policy(retention_policy(settings_));
  pass_ = Pass{};
  pass_.now = config::now_ms();
  next_batch();
}

void RetentionRunner::next_batch() {
  if (stopped_) return;
  const auto started = std::chrono::steady_clock::now();
  auto batch = retention_.run_batch(pass_.now);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  if (!batch) {
    pass_.error = batch.error().message;
    log::error("retention", "a retention batch failed", {{"error", pass_.error}});
    return end_pass(-1);
  }
  if (!batch->more) return return_free_pages();
  pass_.removed[std::string(retention_kind_name(batch->kind))] += batch->removed;
  ++pass_.batches;
  pass_.longest_batch_ms = std::max(pass_.longest_batch_ms, took.count());
  boost::asio::post(io_, [this] { next_batch(); });
}

void RetentionRunner::return_free_pages() {
  if (stopped_) return;
  try {
    const auto left = retention_.return_free_pages(kVacuumStepPages);
    // Stops too when a step made no progress, rather than spin.
    const bool progress = pass_.free_left < 0 || left < pass_.free_left;
    pass_.free_left = left;
    if (left == 0 || !progress) return end_pass(left);
    boost::asio::post(io_, [this] { return_free_pages(); });
  } catch (const StorageFailure& e) {
    pass_.error = e.what();
    log::error("retention", "returning free pages failed", {{"error", pass_.error}});
    end_pass(-1);
  }
}

void RetentionRunner::end_pass(std::int64_t free_pages_left) {
  nlohmann::json removed = nlohmann::json::object();
  for (const auto& [kind, rows] : pass_.removed) removed[kind] = rows;
  last_pass_ = {{"last_pass_at", pass_.now},
                {"removed", removed},
                {"batches", pass_.batches},
                {"longest_batch_ms", pass_.longest_batch_ms}};
  if (free_pages_left >= 0) last_pass_["free_pages_left"] = free_pages_left;
  if (!pass_.error.empty()) last_pass_["error"] = pass_.error;
  if (pass_.batches > 0)
    log::info("retention", "old records removed",
              {{"removed", removed.dump()}, {"batches", pass_.batches}});
  schedule();
}

}  // namespace fulfil::agent
