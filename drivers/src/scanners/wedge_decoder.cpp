#include "wedge_decoder.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <initializer_list>
#include <utility>

namespace fulfil::drivers::scanners {

// What one key types at each level. Strings are UTF-8 because the layouts have keys
// such as 'é' or 'ß'; a barcode that is plain ASCII never needs them.
struct KeyChars {
  std::string plain, shift, altgr;
  bool dead_plain = false, dead_shift = false;  // dead keys wait for the next key
};

struct WedgeDecoder::Layout {
  std::array<KeyChars, 128> keys{};  // every key a layout maps has a code below 128
};

namespace {

using Layout = WedgeDecoder::Layout;

// The keys of each row of a PC keyboard, left to right, as evdev numbers them (by
// position, whatever the layout prints on them).
constexpr std::array<std::uint16_t, 12> kDigitRow{KEY_1, KEY_2, KEY_3, KEY_4, KEY_5,     KEY_6,
                                                  KEY_7, KEY_8, KEY_9, KEY_0, KEY_MINUS, KEY_EQUAL};
constexpr std::array<std::uint16_t, 12> kTopRow{KEY_Q, KEY_W, KEY_E,         KEY_R,
                                                KEY_T, KEY_Y, KEY_U,         KEY_I,
                                                KEY_O, KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE};
constexpr std::array<std::uint16_t, 11> kHomeRow{
    KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON, KEY_APOSTROPHE};
constexpr std::array<std::uint16_t, 10> kBottomRow{KEY_Z, KEY_X, KEY_C,     KEY_V,   KEY_B,
                                                   KEY_N, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH};

// Splits UTF-8 text into its characters, so a row can be written as one string.
std::vector<std::string> characters(std::string_view utf8) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.emplace_back(utf8.substr(i, n));
    i += n;
  }
  return out;
}

template <std::size_t N>
void row(Layout& l, const std::array<std::uint16_t, N>& codes, std::string_view plain,
         std::string_view shift) {
  const auto p = characters(plain), s = characters(shift);
  assert(p.size() == N && s.size() == N);
  for (std::size_t i = 0; i < N && i < p.size() && i < s.size(); ++i) {
    l.keys[codes[i]].plain = p[i];
    l.keys[codes[i]].shift = s[i];
  }
}

void key(Layout& l, std::uint16_t code, std::string plain, std::string shift,
         std::string altgr = {}) {
  l.keys[code].plain = std::move(plain);
  l.keys[code].shift = std::move(shift);
  l.keys[code].altgr = std::move(altgr);
}

void altgr(Layout& l, std::initializer_list<std::pair<std::uint16_t, const char*>> keys) {
  for (const auto& [code, text] : keys) l.keys[code].altgr = text;
}

// Space and the numeric keypad type the same in every layout (num lock on, which is
// how scanners in "keypad" mode expect the host to be).
void common(Layout& l, const char* keypad_decimal) {
  key(l, KEY_SPACE, " ", " ");
  const std::array<std::uint16_t, 10> digits{KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                             KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9};
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const std::string d(1, static_cast<char>('0' + i));
    key(l, digits[i], d, d);
  }
  key(l, KEY_KPDOT, keypad_decimal, keypad_decimal);
  key(l, KEY_KPSLASH, "/", "/");
  key(l, KEY_KPASTERISK, "*", "*");
  key(l, KEY_KPMINUS, "-", "-");
  key(l, KEY_KPPLUS, "+", "+");
}

// The layouts follow the X keyboard database (xkb) base variants that a store PC uses.
Layout us() {
  Layout l;
  row(l, kDigitRow, "1234567890-=", "!@#$%^&*()_+");
  row(l, kTopRow, "qwertyuiop[]", "QWERTYUIOP{}");
  row(l, kHomeRow, "asdfghjkl;'", "ASDFGHJKL:\"");
  row(l, kBottomRow, "zxcvbnm,./", "ZXCVBNM<>?");
  key(l, KEY_GRAVE, "`", "~");
  key(l, KEY_BACKSLASH, "\\", "|");
  key(l, KEY_102ND, "<", ">", "|");
  common(l, ".");
  return l;
}

Layout uk() {
  Layout l;
  row(l, kDigitRow, "1234567890-=", "!\"£$%^&*()_+");
  row(l, kTopRow, "qwertyuiop[]", "QWERTYUIOP{}");
  row(l, kHomeRow, "asdfghjkl;'", "ASDFGHJKL:@");
  row(l, kBottomRow, "zxcvbnm,./", "ZXCVBNM<>?");
  key(l, KEY_GRAVE, "`", "¬", "¦");
  key(l, KEY_BACKSLASH, "#", "~");
  key(l, KEY_102ND, "\\", "|");
  altgr(l, {{KEY_4, "€"}});
  common(l, ".");
  return l;
}

// German QWERTZ: y and z swapped, '@' on AltGr+Q, braces and brackets on AltGr+7..0.
Layout de() {
  Layout l;
  row(l, kDigitRow, "1234567890ß´", "!\"§$%&/()=?`");
  l.keys[KEY_EQUAL].dead_plain = l.keys[KEY_EQUAL].dead_shift = true;
  row(l, kTopRow, "qwertzuiopü+", "QWERTZUIOPÜ*");
  row(l, kHomeRow, "asdfghjklöä", "ASDFGHJKLÖÄ");
  row(l, kBottomRow, "yxcvbnm,.-", "YXCVBNM;:_");
  key(l, KEY_GRAVE, "^", "°");
  l.keys[KEY_GRAVE].dead_plain = true;
  key(l, KEY_BACKSLASH, "#", "'");
  key(l, KEY_102ND, "<", ">", "|");
  altgr(l, {{KEY_Q, "@"},
            {KEY_E, "€"},
            {KEY_2, "²"},
            {KEY_3, "³"},
            {KEY_7, "{"},
            {KEY_8, "["},
            {KEY_9, "]"},
            {KEY_0, "}"},
            {KEY_MINUS, "\\"},
            {KEY_RIGHTBRACE, "~"},
            {KEY_M, "µ"}});
  common(l, ",");  // the German keypad types a decimal comma
  return l;
}

// French AZERTY: the digits are on the shifted level of the top row.
Layout fr() {
  Layout l;
  row(l, kDigitRow, "&é\"'(-è_çà)=", "1234567890°+");
  row(l, kTopRow, "azertyuiop^$", "AZERTYUIOP¨£");
  l.keys[KEY_LEFTBRACE].dead_plain = l.keys[KEY_LEFTBRACE].dead_shift = true;
  row(l, kHomeRow, "qsdfghjklmù", "QSDFGHJKLM%");
  row(l, kBottomRow, "wxcvbn,;:!", "WXCVBN?./§");
  key(l, KEY_GRAVE, "²", "");
  key(l, KEY_BACKSLASH, "*", "µ");
  key(l, KEY_102ND, "<", ">");
  altgr(l, {{KEY_2, "~"},
            {KEY_3, "#"},
            {KEY_4, "{"},
            {KEY_5, "["},
            {KEY_6, "|"},
            {KEY_7, "`"},
            {KEY_8, "\\"},
            {KEY_9, "^"},
            {KEY_0, "@"},
            {KEY_MINUS, "]"},
            {KEY_EQUAL, "}"},
            {KEY_E, "€"},
            {KEY_RIGHTBRACE, "¤"}});
  common(l, ".");
  return l;
}

const Layout* find_layout(std::string_view name) {
  static const Layout kUs = us(), kUk = uk(), kDe = de(), kFr = fr();
  if (name == "us") return &kUs;
  if (name == "uk") return &kUk;
  if (name == "de") return &kDe;
  if (name == "fr") return &kFr;
  return nullptr;
}

// Caps lock shifts letters only, as in xkb; digits and punctuation stay as they are.
bool is_letter(const std::string& plain) {
  if (plain.size() == 1) return plain[0] >= 'a' && plain[0] <= 'z';
  return plain == "ä" || plain == "ö" || plain == "ü";
}

long long whole_ms(std::chrono::microseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

WedgeResult rejected(std::string why) {
  return {WedgeResult::Kind::rejected, std::move(why)};
}

}  // namespace

WedgeDecoder::WedgeDecoder(const ScannerConfig& config)
    : layout_(find_layout(config.keymap)),
      keymap_name_(config.keymap),
      max_interval_(std::chrono::milliseconds(config.max_key_interval_ms)),
      min_length_(config.min_length > 0 ? static_cast<std::size_t>(config.min_length) : 1),
      prefix_(config.prefix),
      // A keyboard cannot type ETX; scanners set to "etx" on a wedge send Enter.
      suffix_name_(config.suffix == "tab" ? "tab" : "enter"),
      suffix_is_tab_(config.suffix == "tab") {
  if (!layout_) {
    layout_ = find_layout("us");
    keymap_name_ = "us";
    fell_back_ = true;
  }
}

bool WedgeDecoder::known_keymap(std::string_view name) {
  return find_layout(name) != nullptr;
}

std::vector<WedgeResult> WedgeDecoder::key(Time time, std::uint16_t code, std::int32_t value) {
  std::vector<WedgeResult> out;
  if (modifier(code, value)) return out;
  // Releases type nothing, and autorepeat is a held key, which a scanner never does.
  if (value == 1) press(time, code, out);
  return out;
}

// Tracks shift, AltGr, ctrl and caps lock; returns whether `code` is one of them.
bool WedgeDecoder::modifier(std::uint16_t code, std::int32_t value) {
  if (value == 2)
    return code == KEY_LEFTSHIFT || code == KEY_RIGHTSHIFT || code == KEY_RIGHTALT ||
           code == KEY_LEFTCTRL || code == KEY_RIGHTCTRL || code == KEY_CAPSLOCK ||
           code == KEY_LEFTALT;
  const bool down = value != 0;
  switch (code) {
    case KEY_LEFTSHIFT:
      left_shift_ = down;
      return true;
    case KEY_RIGHTSHIFT:
      right_shift_ = down;
      return true;
    case KEY_RIGHTALT:
      altgr_ = down;
      return true;
    case KEY_LEFTCTRL:
      left_ctrl_ = down;
      return true;
    case KEY_RIGHTCTRL:
      right_ctrl_ = down;
      return true;
    case KEY_CAPSLOCK:
      if (down) caps_lock_ = !caps_lock_;
      return true;
    case KEY_LEFTALT:  // left Alt types nothing (Alt+keypad codes are not supported)
      return true;
    default:
      return false;
  }
}

void WedgeDecoder::press(Time time, std::uint16_t code, std::vector<WedgeResult>& out) {
  check_gap(time, out);
  const bool suffix = suffix_is_tab_ ? code == KEY_TAB : code == KEY_ENTER || code == KEY_KPENTER;
  if (suffix) return finish(out);
  append(character(code));
}

// A pause longer than a scanner ever makes ends the burst typed so far.
void WedgeDecoder::check_gap(Time time, std::vector<WedgeResult>& out) {
  const auto previous = std::exchange(last_press_, time);
  if (!previous || burst_.empty()) return;
  // Event times are wall-clock; one that runs backwards is a clock step, not a pause.
  const auto gap = time > *previous ? time - *previous : Time{0};
  if (gap <= max_interval_) return;
  slowest_gap_ = std::max(slowest_gap_, gap);
  abandon_burst(out);
}

// A burst cut off by a pause: too short for a scan, so a person typed it, unless it is
// as long as a scan and came fast, which is a scan whose suffix never came.
void WedgeDecoder::abandon_burst(std::vector<WedgeResult>& out) {
  const auto length = characters(burst_).size();
  if (length >= min_length_ && slow_chars_ == 0 && !overflow_) {
    out.push_back(rejected(std::to_string(length) + " characters not ended by " + suffix_name_ +
                           " within " + std::to_string(whole_ms(max_interval_)) + " ms"));
  } else {
    slow_chars_ += length;
  }
  burst_.clear();
  overflow_ = false;
}

// The suffix ends the read. What a person typed since the last read is one rejection;
// a fast burst after it is still a scan if it is long enough.
void WedgeDecoder::finish(std::vector<WedgeResult>& out) {
  std::string burst = std::exchange(burst_, {});
  if (slow_chars_ > 0) {
    if (characters(burst).size() < min_length_) {
      slow_chars_ += characters(burst).size();  // the last keys of the same typing
      burst.clear();
    }
    out.push_back(rejected(slow_reason()));
  }
  if (std::exchange(overflow_, false)) {
    out.push_back(rejected("longer than " + std::to_string(kMaxRead) + " bytes"));
  } else if (auto result = evaluate(std::move(burst))) {
    out.push_back(std::move(*result));
  }
  slow_chars_ = 0;
  slowest_gap_ = Time{0};
  pending_dead_.clear();
}

// A complete fast burst: strip the prefix, then it must still be long enough for a scan.
std::optional<WedgeResult> WedgeDecoder::evaluate(std::string burst) const {
  if (burst.empty()) return std::nullopt;  // a lone suffix key: nothing was typed
  if (!prefix_.empty() && burst.starts_with(prefix_)) burst.erase(0, prefix_.size());
  const auto length = characters(burst).size();
  if (length < min_length_)
    return rejected("too short: " + std::to_string(length) + " characters (minimum " +
                    std::to_string(min_length_) + ")");
  return WedgeResult{WedgeResult::Kind::scan, std::move(burst)};
}

std::string WedgeDecoder::slow_reason() const {
  return "typed too slowly: " + std::to_string(slow_chars_) + " characters with up to " +
         std::to_string(whole_ms(slowest_gap_)) + " ms between keys (a scanner types within " +
         std::to_string(whole_ms(max_interval_)) + " ms)";
}

// What a key types with the modifiers held now; empty for keys that type nothing.
std::string WedgeDecoder::character(std::uint16_t code) {
  if (code == KEY_TAB) return "\t";
  if (code >= layout_->keys.size()) return {};
  const KeyChars& k = layout_->keys[code];
  const bool shift = left_shift_ || right_shift_;
  const bool upper = is_letter(k.plain) ? shift != caps_lock_ : shift;
  std::string text = altgr_ ? k.altgr : upper ? k.shift : k.plain;
  const bool dead = !altgr_ && (upper ? k.dead_shift : k.dead_plain);
  if (text.empty()) return {};
  if (dead) {
    // Compositions (^ then e = ê) are not barcode characters; a dead key followed by
    // space types the accent itself, which is what a scanner sends for '^' or '`'.
    pending_dead_ = std::move(text);
    return {};
  }
  if (!pending_dead_.empty()) {
    std::string accent = std::exchange(pending_dead_, {});
    return code == KEY_SPACE ? accent : accent + text;
  }
  // Ctrl with @, A-Z, [, \, ], ^ or _ types the ASCII control character (Ctrl+] is GS,
  // the GS1 field separator some scanners send).
  if ((left_ctrl_ || right_ctrl_) && text.size() == 1) {
    const char c = text[0] >= 'a' && text[0] <= 'z' ? static_cast<char>(text[0] - 32) : text[0];
    if (c >= '@' && c <= '_') return std::string(1, static_cast<char>(c - '@'));
    return {};
  }
  return text;
}

void WedgeDecoder::append(const std::string& text) {
  if (text.empty()) return;
  if (burst_.size() + text.size() > kMaxRead) {
    overflow_ = true;  // a runaway burst is noise; it is rejected when it ends
    return;
  }
  burst_ += text;
}

std::optional<WedgeResult> WedgeDecoder::reset(std::string_view why) {
  std::optional<WedgeResult> cut;
  if (!burst_.empty() || slow_chars_ > 0) cut = rejected("read cut short: " + std::string(why));
  left_shift_ = right_shift_ = altgr_ = left_ctrl_ = right_ctrl_ = caps_lock_ = false;
  pending_dead_.clear();
  burst_.clear();
  overflow_ = false;
  last_press_.reset();
  slow_chars_ = 0;
  slowest_gap_ = Time{0};
  return cut;
}

}  // namespace fulfil::drivers::scanners
