#pragma once
// The one place that decides how long to wait before retrying the cloud: capped
// exponential backoff with full jitter (a fleet of stores recovering from one outage must
// not retry in lockstep), never shorter than what the cloud asked for in Retry-After.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace fulfil::sync {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint32_t seed);
  // The delay before the next attempt after one more failure.
  std::chrono::milliseconds next_delay(std::optional<std::chrono::milliseconds> retry_after = {});
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937 rng_;
};

// Retry-After is either delta-seconds or an HTTP-date; returns the wait from `now_s`
// (seconds since the epoch), or nothing if the header is absent or unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                           std::int64_t now_s);

}  // namespace fulfil::sync
