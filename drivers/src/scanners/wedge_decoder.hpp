#pragma once
// Turns the key events of a keyboard-wedge scanner into reads. Pure (no device, no clock):
// the driver feeds it every EV_KEY event with its kernel timestamp, so the keymap, the
// modifiers and the "scanner or person?" decision can be tested without hardware.
//
// A scanner types a whole barcode within a few milliseconds per key; a person needs
// 100 ms or more. A key press further than max_key_interval_ms from the previous one ends
// the burst so far, and what was typed before such a pause is a person's typing (or
// the remains of a read that never got its suffix), never a scan.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/scanner.hpp"

namespace fulfil::drivers::scanners {

struct WedgeResult {
  enum class Kind { scan, rejected };
  Kind kind = Kind::scan;
  std::string text;  // the data of a scan (prefix stripped), or why the burst was rejected

  friend bool operator==(const WedgeResult&, const WedgeResult&) = default;
};

class WedgeDecoder {
 public:
  using Time = std::chrono::microseconds;  // the input_event timestamp
  static constexpr std::size_t kMaxRead = 4096;

  explicit WedgeDecoder(const ScannerConfig& config);

  // The layouts the decoder knows: "us", "uk", "de", "fr".
  static bool known_keymap(std::string_view name);
  // The layout in use; "us" when the configured one is unknown (see fell_back()).
  std::string_view keymap() const { return keymap_name_; }
  bool fell_back() const { return fell_back_; }

  // Feeds one EV_KEY event (value 1 = press, 0 = release, 2 = autorepeat). Returns the
  // reads and rejections it completes, in order; usually none.
  std::vector<WedgeResult> key(Time time, std::uint16_t code, std::int32_t value);

  // Forgets held modifiers and any partial burst: after a reconnect, or when the kernel
  // dropped events (SYN_DROPPED). Returns a rejection if a burst was cut short.
  std::optional<WedgeResult> reset(std::string_view why);

  struct Layout;  // defined in the .cpp

 private:
  bool modifier(std::uint16_t code, std::int32_t value);
  void press(Time time, std::uint16_t code, std::vector<WedgeResult>& out);
  void check_gap(Time time, std::vector<WedgeResult>& out);
  void abandon_burst(std::vector<WedgeResult>& out);
  void finish(std::vector<WedgeResult>& out);
  std::optional<WedgeResult> evaluate(std::string burst) const;
  std::string character(std::uint16_t code);
  void append(const std::string& text);
  std::string slow_reason() const;

  const Layout* layout_;
  std::string keymap_name_;
  bool fell_back_ = false;
  std::chrono::microseconds max_interval_;
  std::size_t min_length_;
  std::string prefix_;
  std::string suffix_name_;
  bool suffix_is_tab_;

  // Modifiers, held or locked.
  bool left_shift_ = false, right_shift_ = false, altgr_ = false;
  bool left_ctrl_ = false, right_ctrl_ = false, caps_lock_ = false;
  std::string pending_dead_;  // a dead key waits for the next character

  // The burst in progress and the person's typing seen since the last suffix.
  std::string burst_;
  bool overflow_ = false;
  std::optional<Time> last_press_;
  std::size_t slow_chars_ = 0;
  std::chrono::microseconds slowest_gap_{0};
};

}  // namespace fulfil::drivers::scanners
