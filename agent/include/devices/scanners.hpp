#pragma once
// The store box's barcode scanners, from the `scanners` configuration: each is opened by
// its driver (USB HID-POS, keyboard wedge, serial, network), kept open across unplugs,
// and its reads are handed on with the station they belong to.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace fulfil::agent {

struct HardwareScan {
  std::string scanner;  // the configured id
  std::string station;
  std::string data;  // as the scanner sent it, AIM identifier included when it sends one
  std::int64_t at_ms = 0;
};

class StoreScanners {
 public:
  using ScanRoute = std::function<void(const HardwareScan&)>;
  // A scanner connected, disconnected or failed (not called for each scan).
  using StatusChange = std::function<void()>;

  StoreScanners(boost::asio::io_context& io, const nlohmann::json& entries, ScanRoute on_scan,
                StatusChange on_change);
  ~StoreScanners();
  void start();
  void stop();
  // Each scanner's id, kind, station, state, detail, last scan, counts.
  nlohmann::json status() const;
  // Scanners not connected, as alarm texts ("scanner desk1-usb: disconnected: ...").
  std::vector<std::string> alarms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fulfil::agent
