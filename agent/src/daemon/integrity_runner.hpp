#pragma once
// The database's full quick_check, run after READY when storage.integrity_check is
// "background": start-up checked only the small tables the store's promises to the cloud
// run through (storage/database.hpp), because a quick_check of a year-old database reads
// every page (measured in tests/bench/bench_year: seconds on an SD card) and the store
// would not serve meanwhile. It runs on a worker thread with its own read-only connection
// (WAL: it reads a snapshot while the loop writes); the result comes back to the loop for
// /health (storage.integrity) and, when it fails, a storage alarm.
#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace fulfil::agent {

class IntegrityRunner {
 public:
  IntegrityRunner(boost::asio::io_context& io, std::string path)
      : io_(io), path_(std::move(path)) {}
  IntegrityRunner(const IntegrityRunner&) = delete;
  IntegrityRunner& operator=(const IntegrityRunner&) = delete;
  ~IntegrityRunner() { stop(); }
  void start();
  // Interrupts a check under way and waits for its thread.
  void stop();
  // {"state": "running" | "ok" | "failed", "detail", "seconds"}; null if never started.
  nlohmann::json health() const;
  bool failed() const { return result_ && !result_->ok; }

 private:
  boost::asio::io_context& io_;
  std::string path_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::optional<IntegrityResult> result_;  // set on the loop when the check is done
};

}  // namespace fulfil::agent
