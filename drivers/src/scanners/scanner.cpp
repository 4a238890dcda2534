#include "drivers/scanner.hpp"

#include <map>

#include "scanner_base.hpp"

namespace fulfil::drivers {

std::string_view scanner_kind_name(ScannerKind k) {
  switch (k) {
    case ScannerKind::hidpos:
      return "hidpos";
    case ScannerKind::wedge:
      return "wedge";
    case ScannerKind::serial:
      return "serial";
    case ScannerKind::network:
      return "network";
  }
  return "unknown";
}

std::string_view scanner_state_name(ScannerState s) {
  switch (s) {
    case ScannerState::disconnected:
      return "disconnected";
    case ScannerState::connected:
      return "connected";
    case ScannerState::error:
      return "error";
  }
  return "unknown";
}

ScannerConfig scanner_config_from(const nlohmann::json& e) {
  static const std::map<std::string, ScannerKind> kinds{{"hidpos", ScannerKind::hidpos},
                                                        {"wedge", ScannerKind::wedge},
                                                        {"serial", ScannerKind::serial},
                                                        {"network", ScannerKind::network}};
  auto hex = [](const std::string& s) {
    return static_cast<std::uint16_t>(s.empty() ? 0 : std::stoul(s, nullptr, 16));
  };
  ScannerConfig c;
  c.id = e.at("id");
  c.kind = kinds.at(e.at("kind"));
  c.station = e.at("station");
  c.usb_vendor_id = hex(e.value("usb_vendor_id", ""));
  c.usb_product_id = hex(e.value("usb_product_id", ""));
  c.usb_serial = e.value("usb_serial", "");
  c.device = e.value("device", "");
  c.keymap = e.value("keymap", c.keymap);
  c.max_key_interval_ms = e.value("max_key_interval_ms", c.max_key_interval_ms);
  c.min_length = e.value("min_length", c.min_length);
  c.baud = e.value("baud", c.baud);
  c.data_bits = e.value("data_bits", c.data_bits);
  c.parity = e.value("parity", c.parity);
  c.stop_bits = e.value("stop_bits", c.stop_bits);
  c.host = e.value("host", "");
  c.port = e.value("port", std::uint16_t{0});
  c.prefix = e.value("prefix", "");
  c.suffix = e.value("suffix", c.suffix);
  return c;
}

std::unique_ptr<Scanner> make_scanner(boost::asio::io_context& io, const ScannerConfig& config,
                                      Scanner::ScanHandler on_scan,
                                      Scanner::StatusHandler on_status) {
  switch (config.kind) {
    case ScannerKind::hidpos:
      return scanners::make_hidpos_scanner(io, config, std::move(on_scan), std::move(on_status));
    case ScannerKind::wedge:
      return scanners::make_wedge_scanner(io, config, std::move(on_scan), std::move(on_status));
    case ScannerKind::serial:
      return scanners::make_serial_scanner(io, config, std::move(on_scan), std::move(on_status));
    case ScannerKind::network:
      return scanners::make_network_scanner(io, config, std::move(on_scan), std::move(on_status));
  }
  return nullptr;
}

}  // namespace fulfil::drivers
