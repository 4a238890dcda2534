#pragma once
// Decoding of the HID-POS "scanned data" input report (HID usage page 0x8C), kept apart
// from USB so it can be tested on its own.
//
// The layout the scanners we buy use (Honeywell, Zebra, Datalogic, Access-IS all agree):
//
//   byte 0      report id, 0x02
//   byte 1      number of data bytes in this report (0..56)
//   bytes 2-4   AIM symbology identifier: ']' and two characters ("]E0"); some firmware
//               leaves out the ']' and sends the two characters and a zero
//   bytes 5-60  data, zero padded
//   byte 61-62  vendor symbology code, reserved (ignored)
//   byte 63     bit 0 set: more reports follow with the rest of this barcode
//
// A barcode longer than 56 bytes arrives as several reports, each with the identifier,
// the last one with bit 0 of byte 63 clear.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace fulfil::drivers::scanners {

class HidPosReportDecoder {
 public:
  static constexpr std::uint8_t kScannedDataReportId = 0x02;
  static constexpr std::size_t kHeaderSize = 5;  // id, length, 3 identifier bytes
  static constexpr std::size_t kMaxDataPerReport = 56;
  static constexpr std::size_t kContinuationByte = 63;
  static constexpr std::size_t kMaxRead = 8192;  // far beyond any 2D code we print or scan

  // What one report produced: a complete read, an error (the report and any partial read
  // before it are dropped), or neither while a long barcode is still arriving.
  struct Outcome {
    std::optional<std::string> read;  // AIM identifier ("]E0") followed by the data
    std::optional<std::string> error;
  };

  Outcome feed(std::span<const std::uint8_t> report);
  // Forgets a partial read, e.g. when the device is closed half way through one.
  void reset();
  bool pending() const { return in_progress_; }

 private:
  Outcome fail(std::string why);

  bool in_progress_ = false;
  std::size_t data_bytes_ = 0;  // in read_, after the identifier
  std::string read_;
};

}  // namespace fulfil::drivers::scanners
