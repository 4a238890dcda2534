// USB HID-POS scanners (HID usage page 0x8C) through libusb, on the agent's io_context.
//
// libusb is driven by its asynchronous API: its file descriptors are watched by Asio and
// libusb_handle_events_timeout_completed runs with a zero timeout whenever one is ready or
// libusb's next timeout is due, so no thread of ours ever blocks in libusb. Transfer and
// hotplug callbacks only record what happened and post the work to the io_context, because
// they run inside libusb's event handling, where closing a device or handing a scan to the
// agent (which may stop the scanner) is not allowed.
#include <libusb.h>
#include <poll.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <map>
#include <vector>

#include "config/log.hpp"
#include "hidpos_report.hpp"
#include "scanner_base.hpp"

namespace fulfil::drivers::scanners {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string usb_error(int code) {
  return libusb_error_name(code);
}

std::string usb_id(std::uint16_t vendor, std::uint16_t product) {
  char text[10];
  std::snprintf(text, sizeof text, "%04x:%04x", vendor, product);
  return text;
}

// The one libusb context of the process, shared by every HID-POS scanner and created by
// the first (a process without one never calls libusb_init, which was seen to spin under
// qemu-user). It keeps libusb's descriptors watched on the io_context.
class UsbContext : public std::enable_shared_from_this<UsbContext> {
 public:
  static std::shared_ptr<UsbContext> acquire(asio::io_context& io, std::string& error);
  ~UsbContext();
  UsbContext(const UsbContext&) = delete;
  UsbContext& operator=(const UsbContext&) = delete;

  libusb_context* get() const { return ctx_; }
  // Runs libusb's ready events now; used while waiting for a cancelled transfer.
  void handle_events(std::chrono::milliseconds wait);

 private:
  struct Watch {
    explicit Watch(asio::io_context& io, int fd) : descriptor(io, fd) {}
    asio::posix::stream_descriptor descriptor;
    short events = 0;
    bool unpollable = false;
  };

  UsbContext(asio::io_context& io, libusb_context* ctx)
      : io_(io), ctx_(ctx), timer_(io), tick_(io) {}
  void start();
  void add(int fd, short events);
  void remove(int fd);
  void wait(const std::shared_ptr<Watch>& watch, asio::posix::stream_descriptor::wait_type type);
  void on_ready();
  void arm_timeout();
  void arm_tick();

  static void LIBUSB_CALL added(int fd, short events, void* self) {
    static_cast<UsbContext*>(self)->add(fd, events);
  }
  static void LIBUSB_CALL removed(int fd, void* self) {
    static_cast<UsbContext*>(self)->remove(fd);
  }

  asio::io_context& io_;
  libusb_context* ctx_;
  asio::steady_timer timer_;  // libusb's next timeout, when it has no timerfd
  asio::steady_timer tick_;   // descriptors epoll cannot watch
  std::map<int, std::shared_ptr<Watch>> watches_;
  bool ticking_ = false;
};

std::weak_ptr<UsbContext>& shared_context() {
  static std::weak_ptr<UsbContext> context;
  return context;
}

std::shared_ptr<UsbContext> UsbContext::acquire(asio::io_context& io, std::string& error) {
  if (auto existing = shared_context().lock()) return existing;
  libusb_context* ctx = nullptr;
  if (int rc = libusb_init(&ctx); rc < 0) {
    error = "cannot initialise libusb: " + usb_error(rc);
    return nullptr;
  }
  std::shared_ptr<UsbContext> context(new UsbContext(io, ctx));
  context->start();
  shared_context() = context;
  return context;
}

void UsbContext::start() {
  libusb_set_pollfd_notifiers(ctx_, &UsbContext::added, &UsbContext::removed, this);
  if (const libusb_pollfd** fds = libusb_get_pollfds(ctx_)) {
    for (auto** fd = fds; *fd; ++fd) add((*fd)->fd, (*fd)->events);
    libusb_free_pollfds(fds);
  }
  arm_timeout();
}

UsbContext::~UsbContext() {
  libusb_set_pollfd_notifiers(ctx_, nullptr, nullptr, nullptr);
  // libusb owns the descriptors: stop watching them without closing them.
  for (auto& [fd, watch] : watches_) watch->descriptor.release();
  watches_.clear();
  timer_.cancel();
  tick_.cancel();
  libusb_exit(ctx_);
}

void UsbContext::add(int fd, short events) {
  remove(fd);  // a number libusb closed and reused
  auto watch = std::make_shared<Watch>(io_, fd);
  watch->events = events;
  watches_[fd] = watch;
  if (events & POLLIN) wait(watch, asio::posix::stream_descriptor::wait_read);
  if (events & POLLOUT) wait(watch, asio::posix::stream_descriptor::wait_write);
}

void UsbContext::remove(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->descriptor.release();  // cancels its waits; libusb closes the descriptor
  watches_.erase(it);
}

void UsbContext::wait(const std::shared_ptr<Watch>& watch,
                      asio::posix::stream_descriptor::wait_type type) {
  watch->descriptor.async_wait(type, [self = weak_from_this(), w = std::weak_ptr<Watch>(watch),
                                      type](const boost::system::error_code& ec) {
    auto context = self.lock();
    auto watch = w.lock();
    if (!context || !watch || ec == asio::error::operation_aborted) return;
    if (ec == asio::error::operation_not_supported) {
      // epoll refuses plain files (usbfs nodes are character devices, but a mocked
      // node may be a file): poll() reports them always ready, so look at them on a
      // short tick instead of spinning.
      if (!watch->unpollable)
        log::info("scanner", "libusb descriptor not pollable, checking it every 10 ms");
      watch->unpollable = true;
      context->arm_tick();
      return;
    }
    context->on_ready();
    if (watch->descriptor.is_open()) context->wait(watch, type);
  });
}

void UsbContext::on_ready() {
  timeval zero{0, 0};
  libusb_handle_events_timeout_completed(ctx_, &zero, nullptr);
  arm_timeout();
}

void UsbContext::handle_events(std::chrono::milliseconds wait) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
}

void UsbContext::arm_timeout() {
  timeval tv{};
  if (libusb_get_next_timeout(ctx_, &tv) != 1) return;  // none, or libusb uses a timerfd
  timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
  timer_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
    if (auto context = self.lock(); context && !ec) context->on_ready();
  });
}

void UsbContext::arm_tick() {
  if (ticking_) return;
  ticking_ = true;
  tick_.expires_after(10ms);
  tick_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
    auto context = self.lock();
    if (!context || ec) return;
    context->ticking_ = false;
    bool any = false;
    for (auto& [fd, watch] : context->watches_) any = any || watch->unpollable;
    if (!any) return;
    context->on_ready();
    context->arm_tick();
  });
}

// Where the scanner's reports come from: the first HID interface with an interrupt IN
// endpoint (a HID-POS scanner has one; composite ones put POS first).
struct HidEndpoint {
  int interface = -1;
  unsigned char address = 0;
  int max_packet = 64;
};

std::optional<HidEndpoint> find_hid_endpoint(const libusb_config_descriptor& config) {
  for (int i = 0; i < config.bNumInterfaces; ++i) {
    const libusb_interface& iface = config.interface[i];
    for (int a = 0; a < iface.num_altsetting; ++a) {
      const libusb_interface_descriptor& alt = iface.altsetting[a];
      if (alt.bInterfaceClass != LIBUSB_CLASS_HID) continue;
      for (int e = 0; e < alt.bNumEndpoints; ++e) {
        const libusb_endpoint_descriptor& ep = alt.endpoint[e];
        const bool in = (ep.bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN;
        const bool interrupt =
            (ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) == LIBUSB_TRANSFER_TYPE_INTERRUPT;
        if (in && interrupt)
          return HidEndpoint{alt.bInterfaceNumber, ep.bEndpointAddress,
                             ep.wMaxPacketSize > 0 ? ep.wMaxPacketSize : 64};
      }
    }
  }
  return std::nullopt;
}

class HidPosScanner final : public ScannerBase {
 public:
  HidPosScanner(asio::io_context& io, const ScannerConfig& c, ScanHandler s, StatusHandler st)
      : ScannerBase(io, c, std::move(s), std::move(st)),
        wanted_(usb_id(c.usb_vendor_id, c.usb_product_id)) {}

  ~HidPosScanner() override {
    close_device();
    stop_hotplug();
  }

 protected:
  std::optional<std::string> open_device() override {
    if (handle_) return std::nullopt;  // a hotplug arrival opened it before the retry
    if (!usb_) {
      std::string error;
      usb_ = UsbContext::acquire(io_, error);
      if (!usb_) return error;
    }
    start_hotplug();
    std::string not_found;
    if (auto error = open_matching(not_found)) return error;
    if (!handle_) return not_found;
    if (auto error = start_reading()) {
      close_device();
      return error;
    }
    connected(description_);
    return std::nullopt;
  }

  void close_device() override {
    ++generation_;  // whatever is still posted for this session is stale now
    decoder_.reset();
    cancel_transfer();
    if (handle_) {
      if (claimed_) libusb_release_interface(handle_, endpoint_.interface);
      libusb_close(handle_);  // also drops a transfer that did not finish cancelling
    }
    if (transfer_) libusb_free_transfer(transfer_);
    transfer_ = nullptr;
    in_flight_ = false;
    handle_ = nullptr;
    device_ = nullptr;
    claimed_ = false;
    if (!running()) stop_hotplug();
  }

 private:
  // Opens the first device with the configured ids (and serial, when one is configured).
  // Returns an error; no device found is not one: `not_found` says what was there instead.
  std::optional<std::string> open_matching(std::string& not_found) {
    libusb_device** list = nullptr;
    const ssize_t count = libusb_get_device_list(usb_->get(), &list);
    if (count < 0) return "cannot list USB devices: " + usb_error(static_cast<int>(count));
    std::vector<std::string> other_serials;
    std::optional<std::string> error;
    for (ssize_t i = 0; i < count && !handle_ && !error; ++i)
      error = try_device(list[i], other_serials);
    libusb_free_device_list(list, 1);
    if (handle_ || error) return error;
    not_found = "no USB device " + wanted_;
    if (!config_.usb_serial.empty()) not_found += " with serial " + config_.usb_serial;
    if (!other_serials.empty()) {
      not_found += " (found serial";
      for (const auto& serial : other_serials) not_found += " " + serial;
      not_found += ")";
    }
    return std::nullopt;
  }

  std::optional<std::string> try_device(libusb_device* device,
                                        std::vector<std::string>& other_serials) {
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(device, &desc) != 0) return std::nullopt;
    if (desc.idVendor != config_.usb_vendor_id || desc.idProduct != config_.usb_product_id)
      return std::nullopt;
    libusb_device_handle* handle = nullptr;
    if (int rc = libusb_open(device, &handle); rc != 0)
      return "cannot open USB device " + wanted_ + ": " + usb_error(rc);
    const std::string serial = read_serial(handle, desc.iSerialNumber);
    if (!config_.usb_serial.empty() && serial != config_.usb_serial) {
      // Someone else's scanner (another desk's, with the same model): leave it alone.
      other_serials.push_back(serial.empty() ? "(none)" : serial);
      libusb_close(handle);
      return std::nullopt;
    }
    handle_ = handle;
    device_ = device;
    description_ = "USB " + wanted_ + (serial.empty() ? "" : " serial " + serial) + " bus " +
                   std::to_string(libusb_get_bus_number(device)) + " device " +
                   std::to_string(libusb_get_device_address(device));
    return std::nullopt;
  }

  // A short control transfer; the one synchronous request, made only while opening.
  static std::string read_serial(libusb_device_handle* handle, std::uint8_t index) {
    if (index == 0) return {};
    unsigned char text[128] = {};
    const int n = libusb_get_string_descriptor_ascii(handle, index, text, sizeof text);
    if (n <= 0) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
  }

  std::optional<std::string> start_reading() {
    libusb_device* device = libusb_get_device(handle_);
    libusb_config_descriptor* config = nullptr;
    if (libusb_get_active_config_descriptor(device, &config) != 0 &&
        libusb_get_config_descriptor(device, 0, &config) != 0)
      return "cannot read the configuration of " + description_;
    const auto endpoint = find_hid_endpoint(*config);
    libusb_free_config_descriptor(config);
    if (!endpoint) return description_ + " has no HID interface with an interrupt IN endpoint";
    endpoint_ = *endpoint;
    // The kernel's usbhid driver binds HID-POS scanners; take the interface from it for as
    // long as we hold it, and give it back on release. Not supported off Linux: ignored.
    libusb_set_auto_detach_kernel_driver(handle_, 1);
    if (int rc = libusb_claim_interface(handle_, endpoint_.interface); rc != 0)
      return "cannot claim interface " + std::to_string(endpoint_.interface) + " of " +
             description_ + ": " + usb_error(rc);
    claimed_ = true;
    description_ += " interface " + std::to_string(endpoint_.interface);
    buffer_.assign(static_cast<std::size_t>(endpoint_.max_packet), 0);
    transfer_ = libusb_alloc_transfer(0);
    if (!transfer_) return "cannot allocate a USB transfer";
    libusb_fill_interrupt_transfer(transfer_, handle_, endpoint_.address, buffer_.data(),
                                   static_cast<int>(buffer_.size()), &HidPosScanner::completed,
                                   this, 0);
    if (int rc = libusb_submit_transfer(transfer_); rc != 0)
      return "cannot read from " + description_ + ": " + usb_error(rc);
    in_flight_ = true;
    return std::nullopt;
  }

  // Cancels the transfer and waits (briefly) for libusb to give it back, so that its
  // callback never runs on a closed session or a destroyed scanner.
  void cancel_transfer() {
    if (!transfer_ || !in_flight_) return;
    closing_ = true;
    if (libusb_cancel_transfer(transfer_) != 0) in_flight_ = false;  // already finished
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (in_flight_ && std::chrono::steady_clock::now() < deadline) usb_->handle_events(50ms);
    if (in_flight_)
      log::warn("scanner", "USB transfer not cancelled in time", {{"scanner", config_.id}});
    closing_ = false;
  }

  static void LIBUSB_CALL completed(libusb_transfer* transfer) {
    static_cast<HidPosScanner*>(transfer->user_data)->on_completed(transfer);
  }

  // Inside libusb's event handling: record, resubmit, and post the rest.
  void on_completed(libusb_transfer* transfer) {
    in_flight_ = false;
    if (closing_) return;
    switch (transfer->status) {
      case LIBUSB_TRANSFER_COMPLETED:
        post_report(std::vector<std::uint8_t>(transfer->buffer,
                                              transfer->buffer + transfer->actual_length));
        return resubmit(transfer);
      case LIBUSB_TRANSFER_OVERFLOW:
        post_reject("HID-POS report longer than the endpoint's packet size");
        return resubmit(transfer);
      case LIBUSB_TRANSFER_CANCELLED:
        return;
      case LIBUSB_TRANSFER_NO_DEVICE:
        return post_lost("unplugged");
      case LIBUSB_TRANSFER_STALL:
        return post_lost("USB endpoint stalled");
      default:
        return post_lost("USB transfer failed");
    }
  }

  void resubmit(libusb_transfer* transfer) {
    const int rc = libusb_submit_transfer(transfer);
    if (rc == 0)
      in_flight_ = true;
    else
      post_lost(rc == LIBUSB_ERROR_NO_DEVICE ? "unplugged"
                                             : "cannot read from device: " + usb_error(rc));
  }

  // Posted work runs only if the scanner still exists and the session is the same one.
  template <class F>
  void post(F&& work) {
    asio::post(io_, [alive = std::weak_ptr<int>(alive_), generation = generation_, this,
                     work = std::forward<F>(work)]() mutable {
      if (alive.expired() || generation != generation_ || !running()) return;
      work();
    });
  }

  void post_report(std::vector<std::uint8_t> report) {
    post([this, report = std::move(report)] {
      auto outcome = decoder_.feed(report);
      if (outcome.error) reject_read(*outcome.error);
      if (outcome.read) deliver(std::move(*outcome.read));
    });
  }

  void post_reject(std::string why) {
    post([this, why = std::move(why)] { reject_read(why); });
  }

  void post_lost(std::string reason) {
    post([this, reason = std::move(reason)] { lost(reason); });
  }

  void start_hotplug() {
    if (hotplug_registered_ || !libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) return;
    const int rc = libusb_hotplug_register_callback(
        usb_->get(),
        static_cast<libusb_hotplug_event>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
                                          LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT),
        static_cast<libusb_hotplug_flag>(0), config_.usb_vendor_id, config_.usb_product_id,
        LIBUSB_HOTPLUG_MATCH_ANY, &HidPosScanner::hotplug, this, &hotplug_handle_);
    if (rc == 0)
      hotplug_registered_ = true;
    else
      log::warn("scanner", "no USB hotplug events, relying on retries",
                {{"scanner", config_.id}, {"error", usb_error(rc)}});
  }

  void stop_hotplug() {
    if (hotplug_registered_) libusb_hotplug_deregister_callback(usb_->get(), hotplug_handle_);
    hotplug_registered_ = false;
  }

  static int LIBUSB_CALL hotplug(libusb_context*, libusb_device* device, libusb_hotplug_event event,
                                 void* self) {
    static_cast<HidPosScanner*>(self)->on_hotplug(device, event);
    return 0;  // stay registered
  }

  void on_hotplug(libusb_device* device, libusb_hotplug_event event) {
    if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT) {
      if (handle_ && device == device_) post_lost("unplugged");
      return;
    }
    // Arrival of a device with our ids: open it now instead of at the next retry. Posted
    // under no session (generation check skipped) since there is none while disconnected.
    asio::post(io_, [alive = std::weak_ptr<int>(alive_), this] {
      if (alive.expired() || !running() || handle_) return;
      if (auto error = open_device())
        log::info("scanner", "USB device arrived but did not open",
                  {{"scanner", config_.id}, {"error", *error}});
    });
  }

  const std::string wanted_;  // "05e0:1200"
  std::shared_ptr<UsbContext> usb_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::uint64_t generation_ = 0;

  libusb_device_handle* handle_ = nullptr;
  libusb_device* device_ = nullptr;  // valid while handle_ is open
  std::string description_;
  HidEndpoint endpoint_;
  bool claimed_ = false;
  libusb_transfer* transfer_ = nullptr;
  bool in_flight_ = false;
  bool closing_ = false;  // cancelling: completions are not resubmitted
  std::vector<std::uint8_t> buffer_;
  HidPosReportDecoder decoder_;

  bool hotplug_registered_ = false;
  libusb_hotplug_callback_handle hotplug_handle_{};
};

}  // namespace

std::unique_ptr<Scanner> make_hidpos_scanner(asio::io_context& io, const ScannerConfig& config,
                                             Scanner::ScanHandler on_scan,
                                             Scanner::StatusHandler on_status) {
  return std::make_unique<HidPosScanner>(io, config, std::move(on_scan), std::move(on_status));
}

}  // namespace fulfil::drivers::scanners
