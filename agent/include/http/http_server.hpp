#pragma once
// The project's HTTP/1.1 server (Boost.Beast on the caller's io_context): the terminal
// API of the agent and the reference cloud simulator both run on it. Handlers run on the
// loop thread, so they may call the domain directly; asynchronous handlers answer later
// (long-polls, injected latency).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <optional>

#include <boost/asio/io_context.hpp>

#include "config/expected.hpp"

namespace fulfil::agent {

struct ApiRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // path and query, e.g. "/v1/stores/s1/feed?cursor=3"
  std::string path;                            // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::vector<std::string> params;             // path segments matched by '*' in the route
  std::string body;
  // Requests over the Unix socket are from a local user the socket's file permissions let
  // in (fulfilctl); peer_uid is that user, from the kernel (SO_PEERCRED).
  bool via_unix_socket = false;
  std::optional<unsigned> peer_uid;
  bool via_tls = false;  // arrived on the HTTPS listener
  std::string query_value(const std::string& name, const std::string& fallback = "") const;
  std::string header(const std::string& lower_name) const;
};

struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error_code;  // an error's code (http_error); empty for a success
};

// How a response reaches its client. Production code answers whole; the reference cloud
// simulator also plays a network that loses answers (the connection reset instead) or cuts
// them short (the headers and half the body), through Responder::deliver.
enum class Delivery { whole, reset, truncated };

// Answers one request, once: `respond(r)` sends it whole.
class Responder {
 public:
  explicit Responder(std::function<void(ApiResponse, Delivery)> send) : send_(std::move(send)) {}
  void operator()(ApiResponse response) const { send_(std::move(response), Delivery::whole); }
  void deliver(ApiResponse response, Delivery how) const { send_(std::move(response), how); }

 private:
  std::function<void(ApiResponse, Delivery)> send_;
};

struct ApiOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;
  std::string unix_socket;  // also listen on this path when not empty (mode 0660)
  // TCP connections (WebSockets included) served at once. One more is accepted and closed
  // at once, so a flood of idle connections cannot use up the process's file descriptors
  // (the Unix socket, the database, printers and the cloud link need theirs).
  std::size_t max_connections = 512;
  // HTTPS on a second TCP listener (sharing max_connections), with the box's identity
  // from tls_identity.hpp: TLS 1.2 and 1.3 with ECDHE and AEAD ciphers only, the server's
  // order of preference, session resumption (tickets and a cache), HSTS on every answer.
  struct Tls {
    std::string host = "0.0.0.0";
    std::uint16_t port = 8443;
    std::string identity_dir;        // where the key and certificate are (or are made)
    std::vector<std::string> names;  // what a certificate made here names the box by
    // A client that connects and says nothing is dropped after this.
    std::chrono::milliseconds handshake_timeout{10'000};
    // Plain HTTP on TCP then answers only GET /health (local probes); everything else is
    // a 308 to the same path over HTTPS. The Unix socket is never redirected.
    bool redirect_plain = true;
  };
  std::optional<Tls> tls = std::nullopt;
};

// What the HTTPS listener serves (for /health and the pairing screen).
struct TlsStatus {
  std::uint16_t port = 0;
  std::string fingerprint_sha256;
  std::int64_t not_after_ms = 0;
  bool self_signed = false;
};

// The request line and all headers together may not be larger (431 beyond it).
inline constexpr std::size_t kMaxRequestHeaderBytes = 8 * 1024;

// One open WebSocket. Outgoing text is queued in order; a peer that stops reading and
// falls far behind is disconnected rather than allowed to grow the queue without bound.
class WebSocketChannel {
 public:
  virtual ~WebSocketChannel() = default;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  std::function<void(const std::string&)> on_message;  // text from the peer
  std::function<void()> on_close;                      // once, when the channel ends
};

// A JSON error body {"error": {"code", "message"}}: a stable machine-readable code (also
// kept in ApiResponse::error_code) and a message for people. The local API names its
// codes with ApiErrc (api/api_errors.hpp); this is the wire form both servers share.
ApiResponse http_error(unsigned status, const std::string& code, const std::string& message);

class HttpServer {
 public:
  using Handler = std::function<ApiResponse(const ApiRequest&)>;
  using Responder = agent::Responder;
  using AsyncHandler = std::function<void(const ApiRequest&, Responder)>;

  HttpServer(boost::asio::io_context& io, ApiOptions options);
  ~HttpServer();

  // `pattern` is a path whose segments may be '*' (one segment, captured in params).
  void route(const std::string& method, const std::string& pattern, Handler handler);
  void route_async(const std::string& method, const std::string& pattern, AsyncHandler handler);
  // A WebSocket endpoint: `accept` sees the upgrade request and returns a refusal (sent as
  // an ordinary HTTP response), or nothing to accept and keep the channel.
  using WebSocketAccept = std::function<std::optional<ApiResponse>(
      const ApiRequest&, std::shared_ptr<WebSocketChannel>)>;
  void route_websocket(const std::string& pattern, WebSocketAccept accept);
  // "GET /api/v1/orders/*", ... in registration order (the docs test checks them against
  // the OpenAPI document).
  std::vector<std::string> route_list() const;
  // Binds (and the Unix socket, when configured, and HTTPS, with the identity loaded or
  // made) and starts accepting; returns the bound plain TCP port (useful with port 0).
  Expected<std::uint16_t, std::string> start();
  void stop();
  // Accepting connections (for health checks).
  bool listening() const;
  // TCP connections open now, and those refused for being over max_connections or for
  // lack of file descriptors since start (for /metrics and /health).
  struct ConnectionStats {
    std::size_t open = 0;
    std::int64_t refused_over_limit = 0;
    std::int64_t accept_failures = 0;         // EMFILE, ENFILE, ENOBUFS, ENOMEM
    std::int64_t tls_handshake_failures = 0;  // timed out, garbage, refused protocol
  };
  ConnectionStats connection_stats() const;
  // Set once start() has the HTTPS listener up; nothing without TLS.
  std::optional<TlsStatus> tls_status() const;

  struct Impl;  // public so the connection sessions in the .cpp can hold it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::agent
