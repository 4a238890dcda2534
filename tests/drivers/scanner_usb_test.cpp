// The USB HID-POS scanner driver against a mocked USB device: umockdev provides the
// sysfs entry, the usbfs node and uevents (the test runs under umockdev-wrapper), and
// this file plays the scanner's firmware by answering usbfs ioctls (UMockdevIoctlBase).
// The report decoder is tested on its own first.
#include <doctest/doctest.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#if FULFIL_HAVE_UMOCKDEV
#include <umockdev.h>
#endif

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drivers/scanner.hpp"
#include "hidpos_report.hpp"

using fulfil::drivers::Scan;
using fulfil::drivers::ScannerConfig;
using fulfil::drivers::ScannerKind;
using fulfil::drivers::ScannerState;
using fulfil::drivers::ScannerStatus;
using fulfil::drivers::scanners::HidPosReportDecoder;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

// One 64-byte scanned-data report as HID-POS scanners send it.
Bytes report(std::string_view aim, std::string_view data, bool more = false,
             std::uint8_t id = 0x02) {
  Bytes r(64, 0);
  r[0] = id;
  r[1] = static_cast<std::uint8_t>(data.size());
  std::memcpy(&r[2], aim.data(), std::min<std::size_t>(aim.size(), 3));
  std::memcpy(&r[5], data.data(), std::min<std::size_t>(data.size(), 56));
  r[63] = more ? 1 : 0;
  return r;
}

const std::string kEan = "4006381333931";
// A GS1-128 of 70 characters (SSCC, GTIN, batch, expiry, serial): more than one report.
const std::string kGs1 =
    "00340123450000000017"
    "0104012345678901"
    "10BATCH-2024-0042\x1d"
    "17251231"
    "21SERIAL-0001-XYZ";

}  // namespace

TEST_CASE("HID-POS report decoder") {
  HidPosReportDecoder decoder;

  SUBCASE("a single report is a read with its AIM identifier in front") {
    auto out = decoder.feed(report("]E0", kEan));
    REQUIRE(out.read);
    CHECK(*out.read == "]E0" + kEan);
    CHECK_FALSE(out.error);
    CHECK_FALSE(decoder.pending());
  }
  SUBCASE("an identifier sent without its ']' gets one") {
    auto out = decoder.feed(report(std::string("E0\0", 3), kEan));
    REQUIRE(out.read);
    CHECK(*out.read == "]E0" + kEan);
  }
  SUBCASE("a long barcode is put back together from its reports") {
    REQUIRE(kGs1.size() > 56);
    auto first = decoder.feed(report("]C1", kGs1.substr(0, 56), true));
    CHECK_FALSE(first.read);
    CHECK_FALSE(first.error);
    CHECK(decoder.pending());
    auto second = decoder.feed(report("]C1", kGs1.substr(56)));
    REQUIRE(second.read);
    CHECK(*second.read == "]C1" + kGs1);
    CHECK_FALSE(decoder.pending());
  }
  SUBCASE("a short report without padding is final") {
    Bytes r = report("]E0", kEan);
    r.resize(5 + kEan.size());
    auto out = decoder.feed(r);
    REQUIRE(out.read);
    CHECK(*out.read == "]E0" + kEan);
  }
  SUBCASE("an unknown report id is an error") {
    auto out = decoder.feed(report("]E0", kEan, false, 0x05));
    CHECK_FALSE(out.read);
    REQUIRE(out.error);
    CHECK(*out.error == "unknown HID-POS report id 0x05");
  }
  SUBCASE("a length beyond the report is an error, and drops the partial read") {
    CHECK_FALSE(decoder.feed(report("]C1", kGs1.substr(0, 56), true)).error);
    Bytes bad = report("]C1", "x");
    bad[1] = 57;
    auto out = decoder.feed(bad);
    REQUIRE(out.error);
    CHECK(*out.error == "HID-POS data length 57 beyond the 64-byte report");
    CHECK_FALSE(decoder.pending());
    Bytes truncated = report("]E0", kEan);
    truncated.resize(10);
    out = decoder.feed(truncated);
    REQUIRE(out.error);
    CHECK(*out.error == "HID-POS data length 13 beyond the 10-byte report");
    // The next barcode is whole again.
    out = decoder.feed(report("]E0", kEan));
    REQUIRE(out.read);
    CHECK(*out.read == "]E0" + kEan);
  }
  SUBCASE("too short, empty, no identifier, no data") {
    CHECK(*decoder.feed(Bytes{0x02, 0x00}).error == "HID-POS report of 2 bytes is too short");
    CHECK(*decoder.feed(Bytes{}).error == "empty HID-POS report");
    CHECK(*decoder.feed(report("\x01\x02\x03", kEan)).error ==
          "HID-POS report without a symbology identifier");
    CHECK(*decoder.feed(report("]E0", "")).error == "HID-POS read without data");
  }
  SUBCASE("a runaway continuation stops at the maximum read length") {
    std::optional<std::string> error;
    for (int i = 0; i < 200 && !error; ++i)
      error = decoder.feed(report("]C1", std::string(56, 'x'), true)).error;
    REQUIRE(error);
    CHECK(*error == "HID-POS read longer than 8192 bytes");
  }
}

#if FULFIL_HAVE_UMOCKDEV
namespace {

constexpr const char* kNode = "/dev/bus/usb/001/002";
constexpr const char* kSysfs = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1";

// The scanner's side of usbfs. Its handler runs on umockdev's worker thread, the driver
// on the test's thread: everything is under the mutex.
class FakeScanner {
 public:
  FakeScanner() {
    handler_ = umockdev_ioctl_base_new();
    g_signal_connect_after(handler_, "handle-ioctl", G_CALLBACK(&FakeScanner::on_ioctl), this);
  }
  ~FakeScanner() {
    g_object_unref(handler_);
    auto drop = [](std::deque<Urb>& q) {
      for (auto& u : q) g_object_unref(u.data);
      q.clear();
    };
    drop(ready_);
    drop(discarded_);
    if (interrupt_) g_object_unref(interrupt_);
  }
  UMockdevIoctlBase* handler() const { return handler_; }

  void send(Bytes r) {
    std::lock_guard lock(mutex_);
    reports_.push_back(std::move(r));
  }
  void set_unplugged(bool unplugged) {
    std::lock_guard lock(mutex_);
    unplugged_ = unplugged;
  }
  std::set<unsigned> claimed() const {
    std::lock_guard lock(mutex_);
    return claimed_;
  }
  int claims() const {
    std::lock_guard lock(mutex_);
    return claims_;
  }
  int discards() const {
    std::lock_guard lock(mutex_);
    return discards_;
  }
  bool reading() const {
    std::lock_guard lock(mutex_);
    return interrupt_ != nullptr;
  }
  std::size_t unsent() const {
    std::lock_guard lock(mutex_);
    return reports_.size();
  }

 private:
  struct Urb {
    UMockdevIoctlData* data;  // the client's struct usbdevfs_urb, buffer resolved
    Bytes reply;
    int status = 0;
  };

  static gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    auto* scanner = static_cast<FakeScanner*>(self);
    std::lock_guard lock(scanner->mutex_);
    return scanner->handle(client);
  }

  gboolean handle(UMockdevIoctlClient* client) {
    const gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    switch (request) {
      case USBDEVFS_GET_CAPABILITIES: {
        UMockdevIoctlData* caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), nullptr);
        *reinterpret_cast<guint32*>(caps->data) =
            USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
            USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
        umockdev_ioctl_client_complete(client, 0, 0);
        g_object_unref(caps);
        return TRUE;
      }
      case USBDEVFS_GETDRIVER:  // no kernel driver bound: nothing to detach
        umockdev_ioctl_client_complete(client, -1, ENODATA);
        return TRUE;
      case USBDEVFS_DISCONNECT_CLAIM:
      case USBDEVFS_CLAIMINTERFACE:
      case USBDEVFS_RELEASEINTERFACE: {
        // The argument points at the interface number (the first field of
        // usbdevfs_disconnect_claim too).
        UMockdevIoctlData* number = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), nullptr);
        const unsigned iface = *reinterpret_cast<const unsigned*>(number->data);
        g_object_unref(number);
        if (request == USBDEVFS_RELEASEINTERFACE) {
          claimed_.erase(iface);
        } else {
          claimed_.insert(iface);
          ++claims_;
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case FIONBIO:         // Asio makes the descriptor non-blocking, as usbfs allows
      case USBDEVFS_IOCTL:  // reattaching a kernel driver: there is none
      case USBDEVFS_CLEAR_HALT:
      case USBDEVFS_RESETEP:
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      case USBDEVFS_SUBMITURB:
        return submit(client, arg);
      case USBDEVFS_REAPURB:
      case USBDEVFS_REAPURBNDELAY:
        return reap(client, arg);
      case USBDEVFS_DISCARDURB:
        return discard(client, arg);
      default:
        MESSAGE("fake scanner: unexpected usbfs ioctl " << request);
        umockdev_ioctl_client_complete(client, -1, ENOTTY);
        return TRUE;
    }
  }

  gboolean submit(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    if (unplugged_) {
      umockdev_ioctl_client_complete(client, -1, ENODEV);
      return TRUE;
    }
    UMockdevIoctlData* data = umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_urb), nullptr);
    auto* urb = reinterpret_cast<usbdevfs_urb*>(data->data);
    UMockdevIoctlData* buffer =
        umockdev_ioctl_data_resolve(data, G_STRUCT_OFFSET(usbdevfs_urb, buffer),
                                    static_cast<gsize>(urb->buffer_length), nullptr);
    // `data` keeps `buffer` alive as its child; urb->buffer now points into it.
    const Bytes reply =
        urb->type == USBDEVFS_URB_TYPE_CONTROL ? control_reply(buffer->data) : Bytes{};
    g_object_unref(buffer);
    if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
      ready_.push_back({data, reply, 0});
    } else if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && urb->endpoint == 0x81 && !interrupt_) {
      interrupt_ = data;
    } else {
      MESSAGE("fake scanner: unexpected URB type " << int(urb->type) << " endpoint "
                                                   << int(urb->endpoint));
      g_object_unref(data);
      umockdev_ioctl_client_complete(client, -1, EINVAL);
      return TRUE;
    }
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  }

  // GET_DESCRIPTOR(string): the language list and the three strings of the descriptors.
  static Bytes control_reply(const guint8* setup) {
    if (setup[0] != 0x80 || setup[1] != 0x06 || setup[3] != 0x03) return {};
    if (setup[2] == 0) return {0x04, 0x03, 0x09, 0x04};
    const char* text = setup[2] == 1 ? "Fulfil Test" : setup[2] == 2 ? "HID POS Scanner" : "S123";
    Bytes out{static_cast<std::uint8_t>(2 + 2 * std::strlen(text)), 0x03};
    for (const char* c = text; *c; ++c) out.insert(out.end(), {static_cast<std::uint8_t>(*c), 0});
    const std::size_t wanted = setup[6] | (setup[7] << 8);
    if (out.size() > wanted) out.resize(wanted);
    return out;
  }

  gboolean reap(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    std::optional<Urb> done;
    bool control = false;
    if (!discarded_.empty()) {
      done = discarded_.front();
      discarded_.pop_front();
    } else if (!ready_.empty()) {
      done = ready_.front();
      ready_.pop_front();
      control = true;
    } else if (interrupt_ && !reports_.empty() && !unplugged_) {
      done = Urb{interrupt_, std::move(reports_.front()), 0};
      reports_.pop_front();
      interrupt_ = nullptr;
    }
    if (!done) {
      umockdev_ioctl_client_complete(client, -1, unplugged_ ? ENODEV : EAGAIN);
      return TRUE;
    }
    auto* urb = reinterpret_cast<usbdevfs_urb*>(done->data->data);
    auto* buffer = static_cast<guint8*>(urb->buffer) + (control ? 8 : 0);
    const std::size_t room = static_cast<std::size_t>(urb->buffer_length) - (control ? 8 : 0);
    const std::size_t n = std::min(room, done->reply.size());
    if (n > 0) std::memcpy(buffer, done->reply.data(), n);
    urb->actual_length = static_cast<int>(n);
    urb->status = done->status;
    UMockdevIoctlData* pointer = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), nullptr);
    umockdev_ioctl_data_set_ptr(pointer, 0, done->data);
    umockdev_ioctl_client_complete(client, 0, 0);
    g_object_unref(pointer);
    g_object_unref(done->data);
    return TRUE;
  }

  gboolean discard(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    const auto address = reinterpret_cast<gulong>(*reinterpret_cast<void**>(arg->data));
    if (interrupt_ && interrupt_->client_addr == address) {
      discarded_.push_back({interrupt_, {}, -ENOENT});
      interrupt_ = nullptr;
      ++discards_;
      umockdev_ioctl_client_complete(client, 0, 0);
    } else {
      umockdev_ioctl_client_complete(client, -1, EINVAL);
    }
    return TRUE;
  }

  UMockdevIoctlBase* handler_;
  mutable std::mutex mutex_;
  std::deque<Bytes> reports_;
  std::deque<Urb> ready_;
  std::deque<Urb> discarded_;
  UMockdevIoctlData* interrupt_ = nullptr;  // the driver's pending interrupt-IN read
  std::set<unsigned> claimed_;
  int claims_ = 0;
  int discards_ = 0;
  bool unplugged_ = false;
};

// A testbed with the scanner plugged in, and the driver under test on an io_context.
struct UsbFixture {
  UsbFixture() {
    testbed = umockdev_testbed_new();
    // Only true once a testbed exists (it looks at where /sys leads), and cached.
    REQUIRE_MESSAGE(umockdev_in_mock_environment(),
                    "run under umockdev-wrapper (ctest does): libumockdev-preload is not loaded");
    // The ioctl handler first, so the node is answered as soon as the device appears.
    REQUIRE(umockdev_testbed_attach_ioctl(testbed, kNode, fake.handler(), nullptr));
    GError* error = nullptr;
    const bool added = umockdev_testbed_add_from_file(
        testbed, FULFIL_FIXTURES "/usb/hidpos-scanner.umockdev", &error);
    if (!added) FAIL("cannot load the device: " << (error ? error->message : "?"));
  }
  ~UsbFixture() {
    scanner.reset();  // before the testbed: closing talks to the fake device
    g_object_unref(testbed);
  }

  void make(const std::string& serial = "", std::uint16_t product = 0x1200,
            std::chrono::milliseconds reconnect = 200ms) {
    ScannerConfig c;
    c.id = "desk1-usb";
    c.kind = ScannerKind::hidpos;
    c.station = "desk1";
    c.usb_vendor_id = 0x05e0;
    c.usb_product_id = product;
    c.usb_serial = serial;
    c.reconnect_interval = reconnect;
    scanner = fulfil::drivers::make_scanner(
        io, c, [this](Scan s) { scans.push_back(std::move(s)); },
        [this](const ScannerStatus& s) { statuses.push_back(s); });
    REQUIRE(scanner);
  }

  // Runs the io_context until `done` or the deadline: a hang fails instead of blocking.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(5ms);
      if (io.stopped()) io.restart();
    }
    return done();
  }
  bool connected() const { return scanner->status().state == ScannerState::connected; }
  bool saw(ScannerState state, const std::string& detail) const {
    for (const auto& s : statuses)
      if (s.state == state && s.detail == detail) return true;
    return false;
  }

  FakeScanner fake;
  UMockdevTestbed* testbed = nullptr;
  boost::asio::io_context io;
  std::unique_ptr<fulfil::drivers::Scanner> scanner;
  std::vector<Scan> scans;
  std::vector<ScannerStatus> statuses;
};

}  // namespace

TEST_CASE_FIXTURE(UsbFixture, "opens the scanner by VID/PID/serial, claims it, delivers scans") {
  make("S123");
  scanner->start();
  REQUIRE(run_until([&] { return connected() && fake.reading(); }));
  CHECK(scanner->status().detail == "USB 05e0:1200 serial S123 bus 1 device 2 interface 0");
  CHECK(fake.claimed() == std::set<unsigned>{0});

  fake.send(report("]E0", kEan));
  REQUIRE(run_until([&] { return scans.size() == 1; }));
  CHECK(scans[0].data == "]E0" + kEan);
  CHECK(scans[0].device == "desk1-usb");

  // A GS1-128 in two reports is one scan.
  fake.send(report("]C1", kGs1.substr(0, 56), true));
  fake.send(report("]C1", kGs1.substr(56)));
  REQUIRE(run_until([&] { return scans.size() == 2; }));
  CHECK(scans[1].data == "]C1" + kGs1);

  // A malformed report is rejected and counted; the next good one still arrives.
  Bytes bad = report("]E0", kEan);
  bad[1] = 200;
  fake.send(bad);
  fake.send(report("]E0", kEan, false, 0x07));
  fake.send(report("]E0", "12345670"));
  REQUIRE(run_until([&] { return scans.size() == 3; }));
  CHECK(scans[2].data == "]E012345670");
  const auto status = scanner->status();
  CHECK(status.rejected_reads == 2);
  CHECK(status.scans == 3);
  CHECK(status.state == ScannerState::connected);

  // stop() cancels the read, gives the interface back, and nothing arrives afterwards.
  scanner->stop();
  CHECK(fake.discards() == 1);
  CHECK(fake.claimed().empty());
  CHECK(scanner->status().state == ScannerState::disconnected);
  CHECK(scanner->status().detail == "stopped");
  fake.send(report("]E0", kEan));
  run_until([] { return false; }, 200ms);
  CHECK(scans.size() == 3);
  CHECK(fake.unsent() == 1);
}

TEST_CASE_FIXTURE(UsbFixture, "no serial configured: any scanner with the ids is used") {
  make();
  scanner->start();
  REQUIRE(run_until([&] { return connected(); }));
  fake.send(report("]E0", kEan));
  REQUIRE(run_until([&] { return scans.size() == 1; }));
  CHECK(scans[0].data == "]E0" + kEan);
}

TEST_CASE_FIXTURE(UsbFixture, "another serial is not opened: disconnected with a clear detail") {
  make("OTHER");
  scanner->start();
  run_until([] { return false; }, 300ms);  // a retry or two
  CHECK(scanner->status().state == ScannerState::disconnected);
  CHECK(scanner->status().detail ==
        "no USB device 05e0:1200 with serial OTHER (found serial S123)");
  CHECK(fake.claims() == 0);
  CHECK_FALSE(fake.reading());
}

TEST_CASE_FIXTURE(UsbFixture, "another product id: disconnected, nothing claimed") {
  make("", 0x1201);
  scanner->start();
  run_until([] { return false; }, 100ms);
  CHECK(scanner->status().state == ScannerState::disconnected);
  CHECK(scanner->status().detail == "no USB device 05e0:1201");
  CHECK(fake.claims() == 0);
}

TEST_CASE_FIXTURE(UsbFixture, "unplug is noticed at once, replug reconnects through hotplug") {
  // Retries so slow that only hotplug events can explain a quick reaction.
  make("S123", 0x1200, 60s);
  scanner->start();
  REQUIRE(run_until([&] { return connected() && fake.reading(); }));

  fake.set_unplugged(true);
  umockdev_testbed_uevent(testbed, kSysfs, "remove");
  REQUIRE(run_until([&] { return !connected(); }));
  CHECK(saw(ScannerState::disconnected, "unplugged"));
  CHECK(scanner->status().detail == "unplugged");

  fake.set_unplugged(false);
  umockdev_testbed_uevent(testbed, kSysfs, "add");
  REQUIRE(run_until([&] { return connected() && fake.reading(); }));
  CHECK(fake.claims() == 2);

  fake.send(report("]E0", kEan));
  REQUIRE(run_until([&] { return scans.size() == 1; }));
  CHECK(scans[0].data == "]E0" + kEan);
}

TEST_CASE_FIXTURE(UsbFixture, "the scanner can be destroyed while reading") {
  make("S123");
  scanner->start();
  REQUIRE(run_until([&] { return connected() && fake.reading(); }));
  fake.send(report("]C1", kGs1.substr(0, 56), true));  // half a read in flight
  run_until([&] { return fake.unsent() == 0; }, 1s);
  scanner.reset();
  CHECK(fake.discards() == 1);
  CHECK(fake.claimed().empty());
  run_until([] { return false; }, 50ms);  // anything left posted must not touch it
  CHECK(scans.empty());
}
#endif  // FULFIL_HAVE_UMOCKDEV
