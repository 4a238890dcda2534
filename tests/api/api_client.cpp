#include "api_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace fulfil::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// TCP and Unix connections alike: Beast's HTTP code is compiled once.
using any_socket = asio::generic::stream_protocol::socket;

nlohmann::json Reply::json() const {
  return nlohmann::json::parse(body);
}

std::string Reply::error_code() const {
  try {
    return json().at("error").at("code").get<std::string>();
  } catch (const std::exception&) {
    return "(no error body: " + body.substr(0, 200) + ")";
  }
}

namespace {

any_socket connect_tcp(asio::io_context& io, unsigned short port) {
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return any_socket(std::move(socket));
}

Reply exchange(any_socket socket, const std::string& method, const std::string& target,
               const std::string& body, const std::string& token,
               const std::string& host = "127.0.0.1") {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, host);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(socket, buffer, parser);
  auto& res = parser.get();
  return {res.result_int(), res.body(), std::string(res[http::field::content_type])};
}

}  // namespace

Reply ApiClient::send(const std::string& method, const std::string& target,
                      const std::string& body) const {
  asio::io_context io;
  return exchange(connect_tcp(io, port_), method, target, body, token_, host_);
}

Reply unix_request(const std::string& path, const std::string& method, const std::string& target,
                   const std::string& body) {
  asio::io_context io;
  asio::local::stream_protocol::socket socket(io);
  socket.connect(asio::local::stream_protocol::endpoint(path));
  return exchange(any_socket(std::move(socket)), method, target, body, "");
}

EventSocket::EventSocket(unsigned short port, const std::string& token) : ws_(io_) {
  beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws_.handshake("127.0.0.1", "/api/v1/events?token=" + token);
}

std::optional<nlohmann::json> EventSocket::next(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  beast::flat_buffer buffer;
  std::optional<nlohmann::json> message;
  bool done = false;
  ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
    done = true;
    if (ec) {
      closed_ = true;
      return;
    }
    message = nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
  });
  io_.restart();
  io_.run_for(timeout);
  if (!done) {
    // Abandon the read: the socket is closed so the pending operation completes.
    beast::get_lowest_layer(ws_).close();
    io_.restart();
    io_.run();
    closed_ = true;
  }
  return message;
}

bool EventSocket::wait_for(const std::string& type, const std::string& subject,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto m = next(left);
    if (!m) return false;
    if ((*m)["type"] == "event" && (*m)["event"]["type"] == type &&
        (*m)["event"]["subject"] == subject)
      return true;
  }
  return false;
}

unsigned websocket_refusal(unsigned short port, const std::string& target) {
  asio::io_context io;
  any_socket socket = connect_tcp(io, port);
  http::request<http::string_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res.result_int() == 101 ? 0 : res.result_int();
}

}  // namespace fulfil::test
