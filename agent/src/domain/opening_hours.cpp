#include <ctime>
#include <string>

#include "domain/capacity.hpp"

namespace fulfil::agent {
namespace {

constexpr std::int64_t kMinuteMs = 60 * 1000;
constexpr int kSearchDays = 400;  // a year of closed days, then the store counts as never open

std::tm local_tm(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

// Midnight `days` after the local date of `tm` (mktime normalises the day and DST).
std::int64_t midnight(std::tm tm, int days) {
  tm.tm_mday += days;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

struct Day {
  std::int64_t start = 0;
  std::optional<OpeningHours::Interval> hours;
};

Day day_of(const OpeningHours& h, std::int64_t some_ms_in_day) {
  const std::tm tm = local_tm(some_ms_in_day);
  char date[11];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  Day d{midnight(tm, 0), h.week[static_cast<std::size_t>((tm.tm_wday + 6) % 7)]};
  for (const auto& closed : h.closed_dates)
    if (closed == date) d.hours.reset();
  return d;
}

// The day after `d` (noon of the next day is safely inside it across DST changes).
Day next_day(const OpeningHours& h, const Day& d) {
  return day_of(h, midnight(local_tm(d.start + 12 * 3600 * 1000), 1) + 12 * 3600 * 1000);
}

bool never_open(const OpeningHours& h) {
  for (const auto& d : h.week)
    if (d) return false;
  return true;
}

}  // namespace

OpeningHours OpeningHours::always() {
  OpeningHours h;
  h.week.fill(Interval{});
  return h;
}

std::optional<OpeningHours::Interval> OpeningHours::interval_from(std::string_view text) {
  // The schema's pattern has checked the form: HH:MM-HH:MM.
  if (text.size() != 11) return std::nullopt;
  const auto minutes = [&](std::size_t at) {
    return ((text[at] - '0') * 10 + (text[at + 1] - '0')) * 60 + (text[at + 3] - '0') * 10 +
           (text[at + 4] - '0');
  };
  Interval i{minutes(0), minutes(6)};
  if (i.close_minute <= i.open_minute) return std::nullopt;
  return i;
}

std::int64_t OpeningHours::day_start(std::int64_t ms) {
  return midnight(local_tm(ms), 0);
}

bool OpeningHours::open_at(std::int64_t ms) const {
  const Day d = day_of(*this, ms);
  if (!d.hours) return false;
  const std::int64_t minute = (ms - d.start) / kMinuteMs;
  return minute >= d.hours->open_minute && minute < d.hours->close_minute;
}

std::int64_t OpeningHours::after_open_time(std::int64_t from, std::int64_t open_ms) const {
  if (never_open(*this)) return from + open_ms;
  Day d = day_of(*this, from);
  for (int i = 0; i < kSearchDays; ++i, d = next_day(*this, d)) {
    if (!d.hours) continue;
    const std::int64_t opens = d.start + d.hours->open_minute * kMinuteMs;
    const std::int64_t closes = d.start + d.hours->close_minute * kMinuteMs;
    const std::int64_t start = std::max(from, opens);
    if (start >= closes) continue;
    if (open_ms <= closes - start) return start + open_ms;
    open_ms -= closes - start;
  }
  return from + open_ms;
}

int OpeningHours::closed_days_between(std::int64_t from, std::int64_t to) const {
  if (never_open(*this)) return 0;
  int closed = 0;
  Day d = day_of(*this, from);
  for (int i = 0; i < kSearchDays && d.start <= to; ++i, d = next_day(*this, d))
    if (!d.hours) ++closed;
  return closed;
}

}  // namespace fulfil::agent
