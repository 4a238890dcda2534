#pragma once
// Runs retention (domain/retention.hpp) on the loop: every retention.interval_s a pass
// runs one batch, posts the next and so on until nothing old enough is left, so requests
// are served between batches; then it hands free pages back in small steps the same way.
// /health shows the last pass.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "domain/retention.hpp"

namespace fulfil::agent {

RetentionPolicy retention_policy(const config::Settings& settings);

class RetentionRunner {
 public:
  // `settings` is the daemon's, updated in place on a reload: the next pass uses it.
  RetentionRunner(boost::asio::io_context& io, Database& db, const config::Settings& settings);
  void start();
  void stop();
  // {"last_pass_at", "removed": {kind: rows}, "batches", "longest_batch_ms",
  //  "free_pages_left", "error"}; null before the first pass.
  nlohmann::json health() const { return last_pass_; }

 private:
  struct Pass {
    std::int64_t now = 0;
    std::map<std::string, std::int64_t> removed;
    int batches = 0;
    double longest_batch_ms = 0;
    std::int64_t free_left = -1;
    std::string error;
  };
  boost::asio::io_context& io_;
  Database& db_;
  const config::Settings& settings_;
  Retention retention_;
  boost::asio::steady_timer timer_;
  Pass pass_;
  nlohmann::json last_pass_;
  bool stopped_ = false;

  void schedule();
  void begin_pass();
  void next_batch();
  void return_free_pages();
  void end_pass(std::int64_t free_pages_left);
};

}  // namespace fulfil::agent
