#include "hidpos_report.hpp"

#include <cstdio>

namespace fulfil::drivers::scanners {

namespace {

std::string hex_byte(std::uint8_t b) {
  char text[5];
  std::snprintf(text, sizeof text, "0x%02x", b);
  return text;
}

bool printable(std::uint8_t b) {
  return b > 0x20 && b < 0x7f;
}

// The identifier as "]" + two characters, an empty string when the scanner sent none
// (all zero), or nothing when the bytes are not an identifier at all.
std::optional<std::string> aim_identifier(std::span<const std::uint8_t> id) {
  if (id[0] == 0 && id[1] == 0 && id[2] == 0) return std::string();
  if (id[0] == ']' && printable(id[1]) && printable(id[2]))
    return std::string{']', static_cast<char>(id[1]), static_cast<char>(id[2])};
  if (printable(id[0]) && printable(id[1]) && id[2] == 0)
    return std::string{']', static_cast<char>(id[0]), static_cast<char>(id[1])};
  return std::nullopt;
}

}  // namespace

void HidPosReportDecoder::reset() {
  in_progress_ = false;
  data_bytes_ = 0;
  read_.clear();
}

HidPosReportDecoder::Outcome HidPosReportDecoder::fail(std::string why) {
  // A partial read is worthless once a piece of it is missing.
  reset();
  return {std::nullopt, std::move(why)};
}

HidPosReportDecoder::Outcome HidPosReportDecoder::feed(std::span<const std::uint8_t> report) {
  if (report.empty()) return fail("empty HID-POS report");
  if (report[0] != kScannedDataReportId)
    return fail("unknown HID-POS report id " + hex_byte(report[0]));
  if (report.size() < kHeaderSize)
    return fail("HID-POS report of " + std::to_string(report.size()) + " bytes is too short");
  const std::size_t length = report[1];
  if (length > kMaxDataPerReport || kHeaderSize + length > report.size())
    return fail("HID-POS data length " + std::to_string(length) + " beyond the " +
                std::to_string(report.size()) + "-byte report");
  const auto id = aim_identifier(report.subspan(2, 3));
  if (!id) return fail("HID-POS report without a symbology identifier");
  // Short reports (some scanners trim the padding) cannot carry the flag: they are final.
  const bool more = report.size() > kContinuationByte && (report[kContinuationByte] & 0x01) != 0;

  if (!in_progress_) read_ = *id;
  in_progress_ = true;
  if (read_.size() + length > kMaxRead)
    return fail("HID-POS read longer than " + std::to_string(kMaxRead) + " bytes");
  read_.append(reinterpret_cast<const char*>(report.data() + kHeaderSize), length);
  data_bytes_ += length;
  if (more) return {};

  if (data_bytes_ == 0) return fail("HID-POS read without data");
  std::string read = std::move(read_);
  reset();
  return {std::move(read), std::nullopt};
}

}  // namespace fulfil::drivers::scanners
