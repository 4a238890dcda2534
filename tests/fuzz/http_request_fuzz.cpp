// libFuzzer target for the local API's HTTP request path (issue 10): the real HttpServer
// and TerminalApi on a real store, served from their own thread on 127.0.0.1, and each
// input sent over a real TCP connection. The first byte picks the mode:
//   high bit clear: the rest is the whole request as it is (request line, headers, body);
//   high bit set:   the rest is the body of one of the API's routes (byte % routes), sent
//                   with a manager's token, so every route's JSON reader sees it.
// Any answer is fine but a 5xx other than 503 (a server error is a bug), no answer at all
// (a crash or a hang), or an answer that is not valid JSON where JSON was promised.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/terminal_api.hpp"
#include "config/json_input.hpp"
#include "config/settings.hpp"
#include "domain/store.hpp"
#include "fuzz_store.hpp"
#include "http/http_server.hpp"

namespace {

using nlohmann::json;

using fulfil::fuzz::require;

struct Server {
  std::unique_ptr<fulfil::agent::Store> store;
  fulfil::config::Settings settings;
  boost::asio::io_context io;
  std::unique_ptr<fulfil::agent::HttpServer> http;
  std::unique_ptr<fulfil::agent::TerminalApi> api;
  std::uint16_t port = 0;
  std::string token;
  std::vector<std::pair<std::string, std::string>> routes;  // method, target

  Server() {
    store = fulfil::fuzz::seeded_store("fulfil-http-fuzz");
    auto loaded = fulfil::config::load({});
    require(loaded.has_value());
    settings = *loaded;
    http = std::make_unique<fulfil::agent::HttpServer>(
        io, fulfil::agent::ApiOptions{"127.0.0.1", 0, 256 * 1024, "", 64});
    api = std::make_unique<fulfil::agent::TerminalApi>(
        io, *http, *store, settings,
        fulfil::agent::TerminalApiHooks{[] {}, [] { return json::object(); },
                                        [] { return json::array(); }, nullptr, false});
    const fulfil::agent::CommandContext ctx{{fulfil::agent::Actor::Kind::system, "fuzz"}, 1};
    auto code =
        store->terminals().issue_code({fulfil::agent::Role::manager, "fuzz", "desk-1"}, ctx);
    require(code.has_value());
    auto paired = store->terminals().pair(code->code, ctx);
    require(paired.has_value());
    token = paired->token;
    for (const auto& route : http->route_list()) {
      const auto space = route.find(' ');
      std::string target = route.substr(space + 1);
      for (std::size_t at; (at = target.find('*')) != std::string::npos;)
        target.replace(at, 1, target.find("/orders/") != std::string::npos ? "FO-1" : "1");
      routes.emplace_back(route.substr(0, space), target);
    }
    auto bound = http->start();
    require(bound.has_value());
    port = *bound;
    std::thread([this] { io.run(); }).detach();  // lives as long as the process
  }
};

Server& server() {
  static Server* s = new Server();  // never destroyed: its thread runs until exit
  return *s;
}

// Sends `request` over a new connection and reads until the server closes it.
std::string send_request(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  require(fd >= 0);
  // Each connection we close first leaves a TIME_WAIT behind for a minute, and 400 runs a
  // second use up the 28000 ephemeral ports of one address pair: connect() then fails with
  // EADDRNOTAVAIL, a finding of the harness, not of fulfild. Connecting from one of 250
  // loopback source addresses in turn gives each its own ports.
  static unsigned next_source = 0;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (next_source++ % 250));
  require(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{20, 0};  // longer than any answer takes: a hang is a finding
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  require(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);  // no more: the server answers what it has, or hangs up
  std::string answer;
  char buf[16384];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& s = server();
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string request = rest;
  bool json_promised = false;
  if (data[0] & 0x80) {
    const auto& [method, target] = s.routes[data[0] % s.routes.size()];
    request =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
        "Authorization: Bearer " + s.token +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(rest.size()) +
        "\r\n\r\n" + rest;
    json_promised = target.rfind("/api/", 0) == 0;
  }
  const std::string answer = send_request(s.port, request);
  if (answer.empty()) return 0;  // hung up on garbage (or a WebSocket upgrade): fine
  require(answer.rfind("HTTP/1.1 ", 0) == 0);
  const int status = std::atoi(answer.c_str() + 9);
  require(status >= 100 && status < 600);
  require(status < 500 || status == 503);
  const auto body_at = answer.find("\r\n\r\n");
  if (json_promised && status >= 400 && body_at != std::string::npos)
    require(fulfil::parse_json(answer.substr(body_at + 4)).has_value());
  return 0;
}
