#pragma once
// Barcode scanners of every kind the stores use: USB HID-POS (libusb), keyboard wedge
// (evdev), serial (termios) and network sleds (TCP). Each is a Scanner that runs on the
// agent's io_context, reconnects on its own after an unplug or a lost link, and delivers
// every read as a Scan; the agent routes scans by the scanner's station.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace fulfil::drivers {

enum class ScannerKind { hidpos, wedge, serial, network };
std::string_view scanner_kind_name(ScannerKind k);

// Everything a driver needs from the configuration (one `scanners[]` entry).
struct ScannerConfig {
  std::string id;  // unique per store, e.g. "desk1-usb"
  ScannerKind kind = ScannerKind::hidpos;
  std::string station;  // the pack desk whose session and terminals get the scans

  // hidpos: which USB device (vendor and product id required, serial optional).
  std::uint16_t usb_vendor_id = 0;
  std::uint16_t usb_product_id = 0;
  std::string usb_serial;

  // wedge and serial: the device node (/dev/input/by-id/..., /dev/ttyACM0).
  std::string device;

  // wedge: which layout the scanner types in, and the fastest a person types: key
  // events further apart than this are a person, not a scanner.
  std::string keymap = "us";
  int max_key_interval_ms = 30;
  int min_length = 4;  // shorter bursts are keys, not scans

  // serial.
  int baud = 9600;
  int data_bits = 8;
  std::string parity = "none";  // none, even, odd
  int stop_bits = 1;

  // network: a sled or fixed-mount scanner serving line-framed reads over TCP.
  std::string host;
  std::uint16_t port = 0;

  // wedge, serial, network: framing. The suffix ends a read ("enter" accepts CR, LF and
  // CR LF; "tab"; "etx" is 0x03); the prefix, when configured, is stripped.
  std::string prefix;
  std::string suffix = "enter";

  std::chrono::milliseconds reconnect_interval{2000};
};

// From a validated `scanners[]` entry of the configuration (config/schema.json).
ScannerConfig scanner_config_from(const nlohmann::json& entry);

// One read. `data` is what the scanner sent, with its AIM symbology identifier ("]E0",
// "]C1", ...) in front when the scanner reported one (HID-POS always does), so that
// decode_barcode can tell GS1 symbols from plain text.
struct Scan {
  std::string device;  // ScannerConfig::id
  std::string data;
  std::chrono::system_clock::time_point time;
};

enum class ScannerState { disconnected, connected, error };
std::string_view scanner_state_name(ScannerState s);

struct ScannerStatus {
  std::string id;
  ScannerKind kind = ScannerKind::hidpos;
  std::string station;
  ScannerState state = ScannerState::disconnected;
  std::string detail;             // why it is disconnected or in error, or what it is connected to
  std::int64_t last_scan_ms = 0;  // Unix ms, 0 = never
  std::uint64_t scans = 0;
  std::uint64_t rejected_reads = 0;  // framing errors, bad reports, bursts too slow
};

class Scanner {
 public:
  using ScanHandler = std::function<void(Scan)>;
  using StatusHandler = std::function<void(const ScannerStatus&)>;

  virtual ~Scanner() = default;
  // Opens the device and keeps it open: reconnects after errors every
  // reconnect_interval. Handlers run on the io_context.
  virtual void start() = 0;
  // Closes the device; no handler runs after stop() returns.
  virtual void stop() = 0;
  virtual ScannerStatus status() const = 0;
};

std::unique_ptr<Scanner> make_scanner(boost::asio::io_context& io, const ScannerConfig& config,
                                      Scanner::ScanHandler on_scan,
                                      Scanner::StatusHandler on_status);

}  // namespace fulfil::drivers
