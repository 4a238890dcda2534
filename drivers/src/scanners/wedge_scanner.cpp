// Keyboard-wedge scanners: a scanner that presents itself as a USB keyboard and types each
// barcode. The driver reads its evdev node (/dev/input/by-id/...-event-kbd) directly,
// grabs it so the scans do not also land in whatever window has the focus, and decodes
// the key events with WedgeDecoder (keymap, and scanner-versus-person timing).
#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <memory>

#include "config/log.hpp"
#include "scanner_base.hpp"
#include "wedge_decoder.hpp"

namespace fulfil::drivers::scanners {
namespace {

namespace asio = boost::asio;

std::string errno_text(int error) {
  return std::strerror(error);
}

WedgeDecoder::Time event_time(const input_event& ev) {
  return std::chrono::seconds(ev.input_event_sec) + std::chrono::microseconds(ev.input_event_usec);
}

class WedgeScanner final : public ScannerBase {
 public:
  WedgeScanner(asio::io_context& io, const ScannerConfig& c, ScanHandler s, StatusHandler st)
      : ScannerBase(io, c, std::move(s), std::move(st)), device_(io), decoder_(c) {
    if (decoder_.fell_back())
      log::warn("scanner", "unknown keymap, decoding as us",
                {{"scanner", config_.id}, {"keymap", c.keymap}});
  }
  ~WedgeScanner() override {
    alive_.reset();  // completion handlers still queued on the io_context see this
    close_device();
  }

 protected:
  std::optional<std::string> open_device() override {
    const int fd = ::open(config_.device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "cannot open " + config_.device + ": " + errno_text(errno);
    const std::string grab = grab_device(fd);
    boost::system::error_code ec;
    device_.assign(fd, ec);
    if (ec) {
      release_grab(fd);
      ::close(fd);
      return "cannot watch " + config_.device + ": " + ec.message();
    }
    if (auto cut = decoder_.reset("reconnected")) reject_read(cut->text);
    pending_ = 0;
    ++generation_;
    connected(config_.device + " (" + std::string(decoder_.keymap()) + " keymap, " + grab + ")");
    read();
    return std::nullopt;
  }

  void close_device() override {
    if (!device_.is_open()) return;
    if (grabbed_) release_grab(device_.native_handle());
    boost::system::error_code ignored;
    device_.close(ignored);  // cancels the pending read; its handler sees operation_aborted
  }

 private:
  // Grabbing makes this process the only reader of the device, so the desktop or the
  // packing app in front of the packer never sees the digits. If the grab fails the
  // scanner is still read: losing scans would stop the desk, while un-grabbed keys only
  // also reach the focused window. The status detail says so, and the log warns.
  // (EBUSY means another process holds the grab; then no keys reach us at all, which
  // the "not grabbed" detail explains when no scans arrive.)
  std::string grab_device(int fd) {
    grabbed_ = ::ioctl(fd, EVIOCGRAB, 1) == 0;
    if (grabbed_) return "grabbed";
    const std::string why = errno_text(errno);
    log::warn("scanner", "cannot grab the keyboard device; its keys also reach other programs",
              {{"scanner", config_.id}, {"device", config_.device}, {"error", why}});
    return "not grabbed: " + why;
  }

  void release_grab(int fd) {
    // Fails harmlessly when the device is already gone; the kernel drops the grab with it.
    if (grabbed_) (void)::ioctl(fd, EVIOCGRAB, 0);
    grabbed_ = false;
  }

  void read() {
    auto space = asio::buffer(buffer_.data() + pending_, buffer_.size() - pending_);
    device_.async_read_some(space,
                            [this, alive = std::weak_ptr<int>(alive_), generation = generation_](
                                boost::system::error_code ec, std::size_t n) {
                              // The scanner is gone, stopped, or reopened since this read was
                              // started.
                              if (alive.expired() || ec == asio::error::operation_aborted ||
                                  !running() || generation != generation_)
                                return;
                              if (ec) return lost(read_error(ec));
                              pending_ += n;
                              consume();
                              // A scan handler may have stopped (or restarted) the scanner.
                              if (running() && device_.is_open() && generation == generation_)
                                read();
                            });
  }

  std::string read_error(const boost::system::error_code& ec) const {
    // evdev answers ENODEV once the device is unplugged; a closed pty (umockdev) or a
    // dying USB link gives EIO or end of file.
    if (ec == asio::error::eof || ec.value() == ENODEV || ec.value() == EIO) return "unplugged";
    return config_.device + ": " + ec.message();
  }

  // Decodes every whole input_event in the buffer; a partial one waits for its rest.
  void consume() {
    std::size_t used = 0;
    for (; used + sizeof(input_event) <= pending_ && running(); used += sizeof(input_event)) {
      input_event ev{};
      std::memcpy(&ev, buffer_.data() + used, sizeof ev);
      handle(ev);
    }
    std::memmove(buffer_.data(), buffer_.data() + used, pending_ - used);
    pending_ -= used;
  }

  void handle(const input_event& ev) {
    if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
      // The kernel's buffer overflowed: key events are missing, so a burst in progress
      // would decode to wrong digits.
      if (auto cut = decoder_.reset("the kernel dropped key events")) reject_read(cut->text);
      return;
    }
    if (ev.type != EV_KEY) return;  // EV_SYN, EV_MSC (scan codes), EV_LED, ...
    for (auto& result : decoder_.key(event_time(ev), ev.code, ev.value)) {
      if (result.kind == WedgeResult::Kind::scan)
        deliver(std::move(result.text));
      else
        reject_read(result.text);
      if (!running()) return;
    }
  }

  asio::posix::stream_descriptor device_;
  WedgeDecoder decoder_;
  bool grabbed_ = false;
  std::array<unsigned char, 64 * sizeof(input_event)> buffer_{};
  std::size_t pending_ = 0;  // bytes of buffer_ not decoded yet
  unsigned generation_ = 0;  // which open a read belongs to
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

std::unique_ptr<Scanner> make_wedge_scanner(asio::io_context& io, const ScannerConfig& config,
                                            Scanner::ScanHandler on_scan,
                                            Scanner::StatusHandler on_status) {
  return std::make_unique<WedgeScanner>(io, config, std::move(on_scan), std::move(on_status));
}

}  // namespace fulfil::drivers::scanners
