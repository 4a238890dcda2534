#pragma once
// A blocking test client for the terminal API: HTTP over TCP or the Unix socket, and a
// WebSocket whose reads time out (a test never hangs waiting for a push).
#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

namespace fulfil::test {

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  nlohmann::json json() const;
  std::string error_code() const;  // error.code of an error body
};

class ApiClient {
 public:
  ApiClient(unsigned short port, std::string token = "") : port_(port), token_(std::move(token)) {}
  void set_token(std::string token) { token_ = std::move(token); }
  // The Host header sent (127.0.0.1 unless set): the name a browser reached the box by.
  void set_host(std::string host) { host_ = std::move(host); }
  Reply get(const std::string& target) const { return send("GET", target, ""); }
  Reply post(const std::string& target, const nlohmann::json& body) const {
    return send("POST", target, body.is_null() ? "" : body.dump());
  }
  Reply send(const std::string& method, const std::string& target, const std::string& body) const;

 private:
  unsigned short port_;
  std::string token_;
  std::string host_ = "127.0.0.1";
};

// Requests over the Unix socket carry no token: file permissions are the authentication.
Reply unix_request(const std::string& socket, const std::string& method, const std::string& target,
                   const std::string& body = "");

class EventSocket {
 public:
  // Throws if the handshake is refused; `refusal_status` says how.
  EventSocket(unsigned short port, const std::string& token);
  // The next message, or nothing within `timeout` (or when the server closed it).
  std::optional<nlohmann::json> next(std::chrono::milliseconds timeout);
  // Waits for an event of `type` about `subject`, skipping others.
  bool wait_for(const std::string& type, const std::string& subject,
                std::chrono::milliseconds timeout);
  bool closed() const { return closed_; }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  bool closed_ = false;
};

// The HTTP status of a WebSocket handshake the server refused (0 if it was accepted).
unsigned websocket_refusal(unsigned short port, const std::string& target);

}  // namespace fulfil::test
