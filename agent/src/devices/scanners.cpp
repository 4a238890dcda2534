#include "devices/scanners.hpp"

#include <stdexcept>
#include <vector>

#include "config/log.hpp"
#include "drivers/scanner.hpp"

namespace fulfil::agent {

struct StoreScanners::Impl {
  std::vector<std::unique_ptr<drivers::Scanner>> scanners;
};

StoreScanners::StoreScanners(boost::asio::io_context& io, const nlohmann::json& entries,
                             ScanRoute on_scan, StatusChange on_change)
    : impl_(std::make_unique<Impl>()) {
  for (const auto& entry : entries) {
    const auto config = drivers::scanner_config_from(entry);
    auto deliver = [on_scan, station = config.station](drivers::Scan scan) {
      const auto at =
          std::chrono::duration_cast<std::chrono::milliseconds>(scan.time.time_since_epoch());
      on_scan({scan.device, station, std::move(scan.data), at.count()});
    };
    auto changed = [on_change](const drivers::ScannerStatus& s) {
      log::info("scanner", "state",
                {{"scanner", s.id},
                 {"state", drivers::scanner_state_name(s.state)},
                 {"detail", s.detail}});
      if (on_change) on_change();
    };
    auto scanner = drivers::make_scanner(io, config, deliver, changed);
    if (!scanner)
      throw std::runtime_error("no driver for scanner " + config.id + " (" +
                               std::string(drivers::scanner_kind_name(config.kind)) + ")");
    impl_->scanners.push_back(std::move(scanner));
  }
}

StoreScanners::~StoreScanners() {
  stop();
}

void StoreScanners::start() {
  for (auto& s : impl_->scanners) s->start();
}

void StoreScanners::stop() {
  for (auto& s : impl_->scanners) s->stop();
}

nlohmann::json StoreScanners::status() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& scanner : impl_->scanners) {
    const auto s = scanner->status();
    out.push_back({{"id", s.id},
                   {"kind", drivers::scanner_kind_name(s.kind)},
                   {"station", s.station},
                   {"state", drivers::scanner_state_name(s.state)},
                   {"detail", s.detail},
                   {"last_scan_at", s.last_scan_ms},
                   {"scans", s.scans},
                   {"rejected_reads", s.rejected_reads}});
  }
  return out;
}

std::vector<std::string> StoreScanners::alarms() const {
  std::vector<std::string> out;
  for (const auto& scanner : impl_->scanners) {
    const auto s = scanner->status();
    if (s.state != drivers::ScannerState::connected)
      out.push_back("scanner " + s.id + ": " + std::string(drivers::scanner_state_name(s.state)) +
                    ": " + s.detail);
  }
  return out;
}

}  // namespace fulfil::agent
