#include "sync/backoff.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace fulfil::sync {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint32_t seed)
    : initial_(initial), max_(max), rng_(seed) {}

std::chrono::milliseconds Backoff::next_delay(
    std::optional<std::chrono::milliseconds> retry_after) {
  const int exponent = std::min(failures_, 30);
  ++failures_;
  const auto ceiling =
      std::min<std::int64_t>(max_.count(), initial_.count() << std::min(exponent, 20));
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(ceiling, 1));
  std::chrono::milliseconds delay(jitter(rng_));
  if (retry_after) delay = std::max(delay, std::min(*retry_after, std::chrono::milliseconds(max_)));
  return delay;
}

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                           std::int64_t now_s) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(value));
  }
  // HTTP-date: libcurl's parser handles the three formats RFC 9110 allows.
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::chrono::seconds(std::max<std::int64_t>(0, static_cast<std::int64_t>(when) - now_s));
}

}  // namespace fulfil::sync
