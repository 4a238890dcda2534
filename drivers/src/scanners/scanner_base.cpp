#include "scanner_base.hpp"

#include "config/log.hpp"

namespace fulfil::drivers::scanners {

namespace {
std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

ScannerBase::ScannerBase(boost::asio::io_context& io, ScannerConfig config, ScanHandler on_scan,
                         StatusHandler on_status)
    : io_(io),
      config_(std::move(config)),
      on_scan_(std::move(on_scan)),
      on_status_(std::move(on_status)),
      retry_(io) {
  status_.id = config_.id;
  status_.kind = config_.kind;
  status_.station = config_.station;
  status_.detail = "not started";
}

ScannerBase::~ScannerBase() = default;

void ScannerBase::start() {
  if (running_) return;
  running_ = true;
  try_open();
}

void ScannerBase::stop() {
  if (!running_) return;
  running_ = false;
  retry_.cancel();
  close_device();
  set_state(ScannerState::disconnected, "stopped");
}

void ScannerBase::try_open() {
  if (!running_) return;
  if (auto error = open_device()) {
    set_state(ScannerState::disconnected, *error);
    retry_.expires_after(config_.reconnect_interval);
    retry_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) try_open();
    });
  }
}

void ScannerBase::connected(const std::string& detail) {
  set_state(ScannerState::connected, detail);
}

void ScannerBase::lost(const std::string& reason) {
  close_device();
  if (!running_) return;
  log::warn("scanner", "scanner lost", {{"scanner", config_.id}, {"reason", reason}});
  set_state(ScannerState::disconnected, reason);
  retry_.expires_after(config_.reconnect_interval);
  retry_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) try_open();
  });
}

void ScannerBase::deliver(std::string data) {
  if (!running_) return;
  Scan scan{config_.id, std::move(data), std::chrono::system_clock::now()};
  ++status_.scans;
  status_.last_scan_ms = unix_ms(scan.time);
  on_scan_(std::move(scan));
}

void ScannerBase::reject_read(const std::string& why) {
  ++status_.rejected_reads;
  log::info("scanner", "read ignored", {{"scanner", config_.id}, {"reason", why}});
}

void ScannerBase::set_state(ScannerState s, const std::string& detail) {
  const bool changed = s != status_.state || detail != status_.detail;
  status_.state = s;
  status_.detail = detail;
  if (changed && on_status_) on_status_(status_);
}

LineFramer::LineFramer(const ScannerConfig& config)
    : prefix_(config.prefix),
      end_(config.suffix == "tab"   ? '\t'
           : config.suffix == "etx" ? '\x03'
                                    : '\r'),
      enter_(config.suffix == "enter") {}

std::optional<std::string> LineFramer::push(char c) {
  const bool was_cr = after_cr_;
  after_cr_ = false;
  const bool ends = c == end_ || (enter_ && c == '\n');
  if (!ends) {
    if (buffer_.size() >= kMaxRead)
      overflow_ = true;
    else
      buffer_ += c;
    return std::nullopt;
  }
  after_cr_ = c == '\r';
  if (c == '\n' && was_cr && buffer_.empty()) return std::nullopt;
  std::string read = std::move(buffer_);
  buffer_.clear();
  if (std::exchange(overflow_, false) || read.empty()) return std::nullopt;
  if (!prefix_.empty() && read.starts_with(prefix_)) read.erase(0, prefix_.size());
  return read;
}

}  // namespace fulfil::drivers::scanners
