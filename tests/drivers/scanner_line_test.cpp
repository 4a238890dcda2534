// Serial scanners through a pty pair (the driver opens the slave as it would /dev/ttyACM0)
// and network scanners through a loopback TCP listener: framing, prefixes, line settings,
// a lost link and the reconnect.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <string>
#include <vector>

#include "drivers/scanner.hpp"
#include "scanner_harness.hpp"

namespace asio = boost::asio;
using namespace fulfil::drivers;
using namespace std::chrono_literals;

namespace {

using Harness = fulfil::test::ScannerHarness;

struct Pty {
  int master = -1;
  std::string slave_path;
  Pty() {
    int slave = -1;
    char name[256];
    REQUIRE(::openpty(&master, &slave, name, nullptr, nullptr) == 0);
    slave_path = name;
    ::close(slave);  // the driver opens it by path, as it would a real tty
  }
  ~Pty() {
    if (master >= 0) ::close(master);
  }
  void send(const std::string& bytes) const {
    REQUIRE(::write(master, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
};

ScannerConfig serial_config(const std::string& path) {
  ScannerConfig c;
  c.id = "desk1-serial";
  c.kind = ScannerKind::serial;
  c.station = "desk-1";
  c.device = path;
  c.baud = 115200;
  c.reconnect_interval = 50ms;
  return c;
}

}  // namespace

TEST_CASE("a serial scanner frames reads by CR, LF or CR LF and keeps the AIM identifier") {
  Pty pty;
  Harness h;
  h.start(serial_config(pty.slave_path));
  REQUIRE(h.scanner->status().state == ScannerState::connected);
  CHECK(h.scanner->status().detail == pty.slave_path + " at 115200 baud");

  pty.send("]E04006381333931\r]C1010950123456789617261231\n");
  pty.send("ORD-10");
  pty.send("42\r\n");  // split across writes: one read
  REQUIRE(h.run_until([&] { return h.scans.size() == 3; }));
  CHECK(h.data() ==
        std::vector<std::string>{"]E04006381333931", "]C1010950123456789617261231", "ORD-1042"});
  CHECK(h.scans[0].device == "desk1-serial");
  CHECK(h.scanner->status().scans == 3);
  CHECK(h.scanner->status().last_scan_ms > 0);
}

TEST_CASE("a serial scanner applies the line settings and raw mode from config") {
  Pty pty;
  Harness h;
  auto c = serial_config(pty.slave_path);
  c.baud = 9600;
  // A Linux pty forces 8 data bits and no parity, so only baud and stop bits show here.
  c.stop_bits = 2;
  h.start(c);
  INFO(h.scanner->status().detail);
  REQUIRE(h.scanner->status().state == ScannerState::connected);
  termios t{};
  REQUIRE(::tcgetattr(pty.master, &t) == 0);
  CHECK(::cfgetispeed(&t) == B9600);
  CHECK((t.c_cflag & CSIZE) == CS8);
  CHECK((t.c_cflag & CSTOPB) != 0);
  CHECK((t.c_lflag & (ICANON | ECHO)) == 0);
}

TEST_CASE("a serial scanner strips the configured prefix and ends reads at the suffix") {
  Pty pty;
  Harness h;
  auto c = serial_config(pty.slave_path);
  c.prefix = "@@";
  c.suffix = "tab";
  h.start(c);
  pty.send("@@5901234123457\t\t12345\t");  // an empty read between the tabs is no read
  REQUIRE(h.run_until([&] { return h.scans.size() == 2; }));
  CHECK(h.data() == std::vector<std::string>{"5901234123457", "12345"});
}

TEST_CASE("a read longer than any barcode is dropped and the next one still arrives") {
  Pty pty;
  Harness h;
  h.start(serial_config(pty.slave_path));
  pty.send(std::string(5000, 'A') + "\r");
  pty.send("96385074\r");
  REQUIRE(h.run_until([&] { return h.scans.size() == 1; }));
  CHECK(h.data() == std::vector<std::string>{"96385074"});
}

TEST_CASE("a serial scanner that is not there reports why and connects when it appears") {
  Harness h;
  h.start(serial_config("/nonexistent/ttyACM9"));
  CHECK(h.scanner->status().state == ScannerState::disconnected);
  CHECK(h.scanner->status().detail.find("cannot open /nonexistent/ttyACM9") == 0);
  h.scanner->stop();
  CHECK(h.scanner->status().detail == "stopped");
}

TEST_CASE("a network scanner reads lines over TCP, reconnects after the link drops") {
  Harness h;
  asio::ip::tcp::acceptor acceptor(h.io, {asio::ip::make_address("127.0.0.1"), 0});
  ScannerConfig c;
  c.id = "sled-3";
  c.kind = ScannerKind::network;
  c.station = "desk-2";
  c.host = "127.0.0.1";
  c.port = acceptor.local_endpoint().port();
  c.reconnect_interval = 50ms;

  auto accept_one = [&] {
    auto socket = std::make_shared<asio::ip::tcp::socket>(h.io);
    bool accepted = false;
    acceptor.async_accept(*socket, [&](boost::system::error_code ec) { accepted = !ec; });
    REQUIRE(h.run_until([&] { return accepted; }));
    return socket;
  };
  h.start(c);
  auto first = accept_one();
  REQUIRE(h.run_until([&] { return h.scanner->status().state == ScannerState::connected; }));
  CHECK(h.scanner->status().detail == "127.0.0.1:" + std::to_string(c.port));
  asio::write(*first, asio::buffer(std::string("]Q3(01)09501234567896\r\n4006381333931\r\n")));
  REQUIRE(h.run_until([&] { return h.scans.size() == 2; }));
  CHECK(h.data() == std::vector<std::string>{"]Q3(01)09501234567896", "4006381333931"});

  first->close();
  REQUIRE(h.run_until([&] { return h.scanner->status().state == ScannerState::disconnected; }));
  CHECK(h.scanner->status().detail ==
        "127.0.0.1:" + std::to_string(c.port) + " closed the connection");
  auto second = accept_one();
  REQUIRE(h.run_until([&] { return h.scanner->status().state == ScannerState::connected; }));
  asio::write(*second, asio::buffer(std::string("12345678\n")));
  REQUIRE(h.run_until([&] { return h.scans.size() == 3; }));
  CHECK(h.scans[2].data == "12345678");
  CHECK(h.scanner->status().scans == 3);

  h.scanner->stop();
  CHECK(h.scanner->status().state == ScannerState::disconnected);
}

TEST_CASE("a network scanner with nobody listening stays disconnected with the reason") {
  Harness h;
  asio::ip::tcp::acceptor probe(h.io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  ScannerConfig c;
  c.id = "sled-9";
  c.kind = ScannerKind::network;
  c.host = "127.0.0.1";
  c.port = port;
  c.reconnect_interval = 50ms;
  h.start(c);
  REQUIRE(h.run_until([&] { return !h.statuses.empty(); }));
  CHECK(h.scanner->status().state == ScannerState::disconnected);
  CHECK(h.scanner->status().detail.find("cannot connect to 127.0.0.1:") == 0);
}
