// Keyboard-wedge scanners. The decoder (keymaps, modifiers, scanner-versus-person timing)
// is tested directly with key events; the driver is tested through its real evdev path
// in a umockdev testbed: fixtures/wedge/scanner.umockdev describes a USB keyboard-wedge
// scanner, and the *.evemu files are key events that umockdev replays into its device
// node with their recorded timing and timestamps. The process must run under
// umockdev-wrapper (CTest does), which redirects /dev and /sys into the testbed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/scanner.hpp"
#include "scanner_harness.hpp"
#include "wedge_decoder.hpp"

#ifdef FULFIL_WEDGE_UMOCKDEV
#include <linux/input.h>
#include <umockdev.h>
#endif

using namespace fulfil::drivers;
using fulfil::drivers::scanners::WedgeDecoder;
using fulfil::drivers::scanners::WedgeResult;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------
// Decoder: key events in, reads out.

struct Stroke {
  std::uint16_t code;
  bool shift = false;
  bool altgr = false;
};

// Types strokes the way a wedge scanner does: modifier down, key down, key up, modifier
// up, the next key `gap` later. Returns everything the decoder produced.
struct Typist {
  WedgeDecoder decoder;
  WedgeDecoder::Time now{1'700'000'000'000'000};
  std::vector<WedgeResult> results;

  explicit Typist(const ScannerConfig& c) : decoder(c) {}

  void event(std::uint16_t code, std::int32_t value) {
    for (auto& r : decoder.key(now, code, value)) results.push_back(std::move(r));
  }
  void stroke(const Stroke& s, std::chrono::microseconds gap) {
    if (s.shift) event(KEY_LEFTSHIFT, 1);
    if (s.altgr) event(KEY_RIGHTALT, 1);
    event(s.code, 1);
    now += 500us;
    event(s.code, 0);
    if (s.altgr) event(KEY_RIGHTALT, 0);
    if (s.shift) event(KEY_LEFTSHIFT, 0);
    now += gap;
  }
  void type(const std::vector<Stroke>& strokes, std::chrono::microseconds gap = 3ms) {
    for (const auto& s : strokes) stroke(s, gap);
  }
  std::vector<std::string> scans() const {
    std::vector<std::string> out;
    for (const auto& r : results)
      if (r.kind == WedgeResult::Kind::scan) out.push_back(r.text);
    return out;
  }
  std::vector<std::string> rejections() const {
    std::vector<std::string> out;
    for (const auto& r : results)
      if (r.kind == WedgeResult::Kind::rejected) out.push_back(r.text);
    return out;
  }
};

ScannerConfig wedge_config(const std::string& keymap = "us") {
  ScannerConfig c;
  c.id = "desk1-wedge";
  c.kind = ScannerKind::wedge;
  c.station = "desk-1";
  c.keymap = keymap;
  c.reconnect_interval = 50ms;
  return c;
}

// US keys for digits and plain letters; enough to spell test data.
std::vector<Stroke> us_keys(const std::string& text) {
  static const std::string digits = "1234567890";
  static const std::uint16_t rows[3][10] = {
      {KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P},
      {KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, 0},
      {KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, 0, 0, 0}};
  static const std::string letters[3] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
  std::vector<Stroke> out;
  for (char c : text) {
    if (c == '\n') {
      out.push_back({KEY_ENTER});
    } else if (c == '-') {
      out.push_back({KEY_MINUS});
    } else if (auto d = digits.find(c); d != std::string::npos) {
      out.push_back({static_cast<std::uint16_t>(KEY_1 + d)});
    } else {
      const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (int r = 0; r < 3; ++r)
        if (auto i = letters[r].find(lower); i != std::string::npos)
          out.push_back({rows[r][i], lower != c});
    }
  }
  return out;
}

TEST_CASE("decoder: a fast burst ended by Enter is a scan, with shift decoded (us)") {
  Typist t(wedge_config());
  t.type(us_keys("4006381333931\nORD-12345\nLot-a7B9c\n"));
  CHECK(t.scans() == std::vector<std::string>{"4006381333931", "ORD-12345", "Lot-a7B9c"});
  CHECK(t.rejections().empty());
}

TEST_CASE("decoder: shifted symbols and both shift keys (us)") {
  Typist t(wedge_config());
  t.event(KEY_RIGHTSHIFT, 1);  // right shift counts as shift too
  t.type({{KEY_2}, {KEY_3}, {KEY_SLASH}});
  t.event(KEY_RIGHTSHIFT, 0);
  t.type({{KEY_LEFTBRACE}, {KEY_9, true}, {KEY_APOSTROPHE, true}, {KEY_ENTER}});
  CHECK(t.scans() == std::vector<std::string>{"@#?[(\""});
}

TEST_CASE("decoder: a person typing slowly is rejected once, with the reason") {
  Typist t(wedge_config());
  t.type(us_keys("12345\n"), 150ms);
  CHECK(t.scans().empty());
  REQUIRE(t.rejections().size() == 1);
  CHECK(t.rejections()[0].starts_with("typed too slowly: 5 characters"));
  CHECK(t.rejections()[0].find("(a scanner types within 30 ms)") != std::string::npos);
}

TEST_CASE("decoder: the key interval limit is max_key_interval_ms, inclusive") {
  auto c = wedge_config();
  c.max_key_interval_ms = 10;
  Typist at_limit(c);
  at_limit.type(us_keys("12345\n"), 9500us);  // 10 ms from press to press
  CHECK(at_limit.scans() == std::vector<std::string>{"12345"});
  Typist over(c);
  over.type(us_keys("12345\n"), 10ms);  // 10.5 ms
  CHECK(over.scans().empty());
  CHECK(over.rejections().size() == 1);
}

TEST_CASE("decoder: a scan right after a person's stray keys is still delivered") {
  Typist t(wedge_config());
  t.type(us_keys("ab"), 200ms);
  t.type(us_keys("4006381333931\n"));
  CHECK(t.scans() == std::vector<std::string>{"4006381333931"});
  REQUIRE(t.rejections().size() == 1);
  CHECK(t.rejections()[0].starts_with("typed too slowly: 2 characters"));
}

TEST_CASE("decoder: a fast burst that never gets its suffix is rejected, not merged") {
  Typist t(wedge_config());
  t.type(us_keys("123456"));
  t.now += 500ms;
  t.type(us_keys("789012\n"));
  CHECK(t.scans() == std::vector<std::string>{"789012"});
  CHECK(t.rejections() == std::vector<std::string>{"6 characters not ended by enter within 30 ms"});
}

TEST_CASE("decoder: min_length, prefix stripping and a lone Enter") {
  auto c = wedge_config();
  c.prefix = "zq";
  Typist t(c);
  t.type(us_keys("zq4006381333931\n"));  // prefix stripped
  t.type(us_keys("4006381333931\n"));    // no prefix: delivered as it is
  t.type(us_keys("zq123\n"));            // 3 characters after the prefix
  t.type(us_keys("\n"));                 // nothing typed: nothing to report
  CHECK(t.scans() == std::vector<std::string>{"4006381333931", "4006381333931"});
  CHECK(t.rejections() == std::vector<std::string>{"too short: 3 characters (minimum 4)"});
}

TEST_CASE("decoder: autorepeat, releases and unmapped keys type nothing") {
  Typist t(wedge_config());
  t.event(KEY_4, 1);
  t.event(KEY_4, 2);  // autorepeat of a held key
  t.event(KEY_4, 2);
  t.event(KEY_4, 0);
  t.type({{KEY_F5}, {KEY_0}, {KEY_0}, {KEY_6}, {KEY_ENTER}});
  CHECK(t.scans() == std::vector<std::string>{"4006"});
}

TEST_CASE("decoder: suffix tab, and etx (impossible on a keyboard) is Enter") {
  auto c = wedge_config();
  c.suffix = "tab";
  Typist tab(c);
  tab.type(us_keys("1234"));
  tab.type({{KEY_ENTER}, {KEY_TAB}});  // Enter is not the suffix and types nothing
  CHECK(tab.scans() == std::vector<std::string>{"1234"});
  c.suffix = "etx";
  Typist etx(c);
  etx.type(us_keys("1234\n"));
  etx.type({{KEY_5}, {KEY_6}, {KEY_7}, {KEY_8}, {KEY_KPENTER}});
  CHECK(etx.scans() == std::vector<std::string>{"1234", "5678"});
}

TEST_CASE("decoder: German layout swaps y and z and types @ with AltGr+Q") {
  Typist de(wedge_config("de"));
  const std::vector<Stroke> keys{{KEY_Q, false, true}, {KEY_Z},     {KEY_Y},
                                 {KEY_Y, true},        {KEY_SLASH}, {KEY_7, true},
                                 {KEY_8, false, true}, {KEY_MINUS}, {KEY_ENTER}};
  de.type(keys);
  CHECK(de.scans() == std::vector<std::string>{"@yzZ-/[ß"});
  Typist us(wedge_config("us"));  // the same keys read as US are wrong: the keymap matters
  us.type(keys);
  CHECK(us.scans() == std::vector<std::string>{"zyY/&-"});  // right Alt types nothing
}

TEST_CASE("decoder: French AZERTY needs shift for digits") {
  Typist fr(wedge_config("fr"));
  const std::vector<Stroke> digits{
      {KEY_4, true}, {KEY_0, true}, {KEY_0, true},        {KEY_6, true}, {KEY_Q},
      {KEY_A},       {KEY_M},       {KEY_0, false, true}, {KEY_ENTER}};
  fr.type(digits);
  CHECK(fr.scans() == std::vector<std::string>{"4006aq,@"});
  Typist unshifted(wedge_config("fr"));
  unshifted.type({{KEY_4}, {KEY_0}, {KEY_2}, {KEY_7}, {KEY_9}, {KEY_ENTER}});
  CHECK(unshifted.scans() == std::vector<std::string>{"'àéèç"});
}

TEST_CASE("decoder: UK layout") {
  Typist uk(wedge_config("uk"));
  uk.type({{KEY_2, true}, {KEY_3, true}, {KEY_APOSTROPHE, true}, {KEY_BACKSLASH}, {KEY_ENTER}});
  CHECK(uk.scans() == std::vector<std::string>{"\"£@#"});
}

TEST_CASE("decoder: caps lock, ctrl and a dead key") {
  Typist t(wedge_config());
  t.type({{KEY_CAPSLOCK}, {KEY_A}, {KEY_B, true}, {KEY_1}, {KEY_CAPSLOCK}, {KEY_C}});
  t.event(KEY_LEFTCTRL, 1);
  t.type({{KEY_RIGHTBRACE}});  // Ctrl+] is GS, the GS1 separator
  t.event(KEY_LEFTCTRL, 0);
  t.type({{KEY_D}, {KEY_ENTER}});
  CHECK(t.scans() == std::vector<std::string>{"Ab1c\x1d"
                                              "d"});
  Typist de(wedge_config("de"));
  de.type({{KEY_1}, {KEY_GRAVE}, {KEY_SPACE}, {KEY_2}, {KEY_3}, {KEY_ENTER}});  // ^ is dead
  CHECK(de.scans() == std::vector<std::string>{"1^23"});
}

TEST_CASE("decoder: an unknown keymap falls back to us") {
  WedgeDecoder d(wedge_config("dvorak"));
  CHECK(d.fell_back());
  CHECK(d.keymap() == "us");
  CHECK(WedgeDecoder::known_keymap("fr"));
  CHECK_FALSE(WedgeDecoder::known_keymap("dvorak"));
  CHECK_FALSE(WedgeDecoder(wedge_config("de")).fell_back());
}

TEST_CASE("decoder: reset cuts a burst short and forgets held modifiers") {
  Typist t(wedge_config());
  t.event(KEY_LEFTSHIFT, 1);
  t.type({{KEY_1}, {KEY_2}});
  auto cut = t.decoder.reset("the kernel dropped key events");
  REQUIRE(cut);
  CHECK(cut->text == "read cut short: the kernel dropped key events");
  t.type(us_keys("1234\n"));
  CHECK(t.scans() == std::vector<std::string>{"1234"});  // shift no longer held
  CHECK_FALSE(t.decoder.reset("again"));
}

#ifdef FULFIL_WEDGE_UMOCKDEV

// ---------------------------------------------------------------------------------------
// The driver, on a umockdev testbed.

const std::string kFixtures = FULFIL_FIXTURES "/wedge/";
const std::string kById = "/dev/input/by-id/usb-Honeywell_1900-event-kbd";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

// The test answers the ioctls the driver makes on the scanner's node (umockdev runs this
// on its worker thread, hence the atomics).
struct GrabLog {
  std::atomic<int> grabs{0}, releases{0};
  std::atomic<bool> refuse{false};  // answer EVIOCGRAB(1) with EBUSY, as when another
                                    // program holds the grab
};

// EVIOCGRAB is recorded (and refused on request). Every other ioctl runs on the pty
// behind the node: umockdev answers ioctls it has no record of with ENOTTY, even the
// generic FIONBIO that Asio issues on every descriptor and that a real evdev node accepts.
gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer data) {
  if (umockdev_ioctl_client_get_request(client) != EVIOCGRAB) {
    int error = 0;
    const int result = umockdev_ioctl_client_execute(client, &error, nullptr);
    umockdev_ioctl_client_complete(client, result, error);
    return TRUE;
  }
  auto* log = static_cast<GrabLog*>(data);
  UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
  const bool grab = *reinterpret_cast<const unsigned long*>(arg->data) != 0;
  if (grab && log->refuse) {
    umockdev_ioctl_client_complete(client, -1, EBUSY);
    return TRUE;
  }
  ++(grab ? log->grabs : log->releases);
  umockdev_ioctl_client_complete(client, 0, 0);
  return TRUE;
}

// One testbed per test case: the scanner's sysfs entry and a pty as its /dev node, plus
// the by-id link (umockdev ignores the S: lines of a device description).
class Testbed {
 public:
  GrabLog grabs;

  Testbed() {
    bed_ = umockdev_testbed_new();
    // Only meaningful once a testbed exists: it checks that /sys now leads into it.
    REQUIRE_MESSAGE(umockdev_in_mock_environment(),
                    "run this test under umockdev-wrapper (ctest does)");
    plug(21);
    attach_ioctl_handler();
  }
  ~Testbed() {
    if (held_pty_ >= 0) ::close(held_pty_);
    if (handler_) g_object_unref(handler_);
    g_object_unref(bed_);
  }
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  // Adds the scanner as /dev/input/eventN (the fixture describes event21) and points the
  // by-id link at it, as udev does when the scanner is plugged in.
  void plug(int n) {
    std::string text = read_text(kFixtures + "scanner.umockdev");
    text = replace_all(text, "event21", "event" + std::to_string(n));
    text = replace_all(text, "input21", "input" + std::to_string(n));
    text = replace_all(text, "dev=13:85", "dev=13:" + std::to_string(64 + n));
    text = replace_all(text, "MINOR=85", "MINOR=" + std::to_string(64 + n));
    GError* error = nullptr;
    const bool added = umockdev_testbed_add_from_string(bed_, text.c_str(), &error);
    REQUIRE_MESSAGE(added, (error ? error->message : "?"));
    node_ = "/dev/input/event" + std::to_string(n);
    syspath_ =
        "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:0C2E:0B61.0003/input/input" +
        std::to_string(n) + "/event" + std::to_string(n);
    const auto link = root() + kById;
    std::filesystem::create_directories(std::filesystem::path(link).parent_path());
    std::filesystem::remove(link);
    std::filesystem::create_symlink("../event" + std::to_string(n), link);
  }

  // Starts replaying an evemu file into the current node; umockdev keeps the gaps
  // between events and their timestamps.
  void replay(const std::string& fixture) {
    GError* error = nullptr;
    const bool loaded = umockdev_testbed_load_evemu_events(bed_, node_.c_str(),
                                                           (kFixtures + fixture).c_str(), &error);
    REQUIRE_MESSAGE(loaded, (error ? error->message : "?"));
  }

  // umockdev cannot make an open evdev node fail with ENODEV, so an unplug is played as
  // what it does to the driver's fd: the node and its link disappear, and the pty behind
  // the node hangs up (its master end is replaced by /dev/null, which keeps the fd number
  // owned by the testbed), so the driver's read ends with EIO / end of file.
  void unplug() {
    std::filesystem::remove(root() + kById);
    umockdev_testbed_remove_device(bed_, syspath_.c_str());
    const int master = umockdev_testbed_get_dev_fd(bed_, node_.c_str());
    REQUIRE(master >= 0);
    // Keeps the pty's number taken: umockdev cannot give a replugged node the same pty.
    held_pty_ = ::open(::ptsname(master), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(held_pty_ >= 0);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    REQUIRE(null >= 0);
    REQUIRE(::dup2(null, master) == master);
    ::close(null);
  }

 private:
  // On the by-id path, which is what the driver opens (umockdev keys handlers by path).
  void attach_ioctl_handler() {
    handler_ = umockdev_ioctl_base_new();
    g_signal_connect(handler_, "handle-ioctl", G_CALLBACK(on_ioctl), &grabs);
    GError* error = nullptr;
    REQUIRE(umockdev_testbed_attach_ioctl(bed_, kById.c_str(), handler_, &error));
  }

  std::string root() const {
    gchar* dir = umockdev_testbed_get_root_dir(bed_);
    std::string out = dir;
    g_free(dir);
    return out;
  }

  UMockdevTestbed* bed_ = nullptr;
  UMockdevIoctlBase* handler_ = nullptr;
  int held_pty_ = -1;
  std::string node_, syspath_;
};

using Harness = fulfil::test::ScannerHarness;

ScannerConfig device_config(const std::string& keymap = "us") {
  auto c = wedge_config(keymap);
  c.device = kById;
  return c;
}

TEST_CASE("wedge driver: a fast scan is delivered; the device is grabbed and released") {
  Testbed bed;
  Harness h;
  h.start(device_config());
  CHECK(h.scanner->status().state == ScannerState::connected);
  CHECK(h.scanner->status().detail == kById + " (us keymap, grabbed)");
  CHECK(bed.grabs.grabs == 1);

  bed.replay("scan-ean13.evemu");
  REQUIRE(h.run_until([&] { return !h.scans.empty(); }));
  h.run_for(150ms);  // the rest of the replay: nothing more may come
  CHECK(h.data() == std::vector<std::string>{"4006381333931"});
  CHECK(h.scans[0].device == "desk1-wedge");
  CHECK(h.scanner->status().scans == 1);
  CHECK(h.scanner->status().rejected_reads == 0);
  CHECK(h.scanner->status().last_scan_ms > 0);

  h.scanner->stop();
  CHECK(bed.grabs.releases == 1);
  CHECK(h.scanner->status().state == ScannerState::disconnected);
  const auto statuses = h.statuses.size();
  h.run_for(100ms);  // nothing runs after stop()
  CHECK(h.statuses.size() == statuses);
  CHECK(h.scans.size() == 1);
}

TEST_CASE("wedge driver: a person typing slowly is not delivered and is counted") {
  Testbed bed;
  Harness h;
  h.start(device_config());
  bed.replay("typed-slowly.evemu");
  REQUIRE(h.run_until([&] { return h.scanner->status().rejected_reads > 0; }));
  h.run_for(150ms);  // the rest of the replay: nothing more may come
  CHECK(h.scans.empty());
  CHECK(h.scanner->status().scans == 0);
  CHECK(h.scanner->status().rejected_reads == 1);
}

TEST_CASE("wedge driver: shifted characters, two reads in a row (us)") {
  Testbed bed;
  Harness h;
  h.start(device_config());
  bed.replay("shifted-us.evemu");
  REQUIRE(h.run_until([&] { return h.scans.size() >= 2; }));
  h.run_for(150ms);  // the rest of the replay: nothing more may come
  CHECK(h.data() == std::vector<std::string>{"ORD-12345", "Lot-a7B9c"});
  CHECK(h.scanner->status().rejected_reads == 0);
}

TEST_CASE("wedge driver: German layout with AltGr, and the prefix stripped") {
  Testbed bed;
  Harness h;
  auto c = device_config("de");
  c.prefix = "@";
  h.start(c);
  CHECK(h.scanner->status().detail == kById + " (de keymap, grabbed)");
  bed.replay("prefixed-de.evemu");
  REQUIRE(h.run_until([&] { return !h.scans.empty(); }));
  h.run_for(150ms);  // the rest of the replay: nothing more may come
  CHECK(h.data() == std::vector<std::string>{"ORD-12345-yz"});
}

TEST_CASE("wedge driver: a refused grab is reported and the scanner still reads") {
  Testbed bed;
  bed.grabs.refuse = true;
  Harness h;
  h.start(device_config());
  CHECK(h.scanner->status().state == ScannerState::connected);
  CHECK(h.scanner->status().detail == kById + " (us keymap, not grabbed: Device or resource busy)");
  bed.replay("scan-ean13.evemu");
  REQUIRE(h.run_until([&] { return !h.scans.empty(); }));
  CHECK(h.data() == std::vector<std::string>{"4006381333931"});
  h.scanner->stop();
  CHECK(bed.grabs.releases == 0);  // nothing to release
}

TEST_CASE("wedge driver: unplugged, it reports disconnected, then reconnects on replug") {
  Testbed bed;
  Harness h;
  h.start(device_config());
  bed.replay("scan-ean13.evemu");
  REQUIRE(h.run_until([&] { return !h.scans.empty(); }));
  h.run_for(150ms);  // let the replay finish

  bed.unplug();
  auto state = [&] { return h.scanner->status(); };
  REQUIRE(h.run_until([&] { return state().state == ScannerState::disconnected; }));
  CHECK(state().detail == "unplugged");
  // The next attempts find no device node.
  REQUIRE(h.run_until([&] { return state().detail.starts_with("cannot open"); }));
  CHECK(state().state == ScannerState::disconnected);
  CHECK(state().detail == "cannot open " + kById + ": No such file or directory");

  bed.plug(22);  // replugged: a new event node behind the same by-id link
  REQUIRE(h.run_until([&] { return state().state == ScannerState::connected; }));
  bed.replay("scan-ean13.evemu");
  REQUIRE(h.run_until([&] { return h.scans.size() == 2; }));
  CHECK(h.data() == std::vector<std::string>{"4006381333931", "4006381333931"});
  CHECK(state().rejected_reads == 0);
}

TEST_CASE("wedge driver: no device yet means disconnected with the reason") {
  Testbed bed;
  Harness h;
  auto c = device_config();
  c.device = "/dev/input/by-id/usb-missing-event-kbd";
  h.start(c);
  CHECK(h.scanner->status().state == ScannerState::disconnected);
  CHECK(h.scanner->status().detail ==
        "cannot open /dev/input/by-id/usb-missing-event-kbd: No such file or directory");
}

#else

TEST_CASE("wedge driver tests need umockdev") {
  MESSAGE(
      "the evdev driver tests run in native builds with libumockdev only; "
      "this build runs the decoder tests");
}

#endif

}  // namespace
