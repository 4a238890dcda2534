#include "http/http_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <deque>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/log.hpp"
#include "http/tls_identity.hpp"

namespace fulfil::agent {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;
// Both listeners hand their connections to one Session over a generic stream socket:
// Beast's HTTP and WebSocket code is instantiated once, not once per socket kind (which
// made this the slowest file of the build).
using any_socket = asio::generic::stream_protocol::socket;
using any_stream = beast::basic_stream<asio::generic::stream_protocol>;
// HTTPS: the same sessions over TLS (a second instantiation, for the HTTPS listener).
using tls_stream = beast::ssl_stream<any_stream>;
template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, tls_stream>;

ApiResponse http_error(unsigned status, const std::string& code, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.error_code = code;
  // A message may quote what the client sent: bytes that are not UTF-8 are replaced
  // rather than allowed to make the error itself fail.
  r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string ApiRequest::query_value(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::string ApiRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string seg; std::getline(in, seg, '/');)
    if (!seg.empty()) out.push_back(seg);
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty())
      out[percent_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

struct Route {
  std::string method;
  std::vector<std::string> segments;
  HttpServer::AsyncHandler handler;
};

bool matches(const Route& r, const std::vector<std::string>& segs,
             std::vector<std::string>& params) {
  if (r.segments.size() != segs.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (r.segments[i] == "*")
      params.push_back(segs[i]);
    else if (r.segments[i] != segs[i])
      return false;
  }
  return true;
}

}  // namespace

struct WebSocketRoute {
  std::vector<std::string> segments;
  HttpServer::WebSocketAccept accept;
};

// A warning that may come thousands of times a second under attack: said at once, then
// at most every 10 s with how many were not said.
struct ThrottledWarning {
  std::chrono::steady_clock::time_point last{};
  std::int64_t unsaid = 0;
  bool due() {
    const auto now = std::chrono::steady_clock::now();
    if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::seconds(10)) {
      ++unsaid;
      return false;
    }
    last = now;
    return true;
  }
  std::int64_t take_unsaid() { return std::exchange(unsaid, 0); }
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, ApiOptions o)
      : io(io),
        options(std::move(o)),
        acceptor(io),
        unix_acceptor(io),
        tls_acceptor(io),
        accept_pause(io),
        unix_accept_pause(io),
        tls_accept_pause(io) {}
  asio::io_context& io;
  ApiOptions options;
  tcp::acceptor acceptor;
  unix_socket::acceptor unix_acceptor;
  tcp::acceptor tls_acceptor;
  asio::steady_timer accept_pause, unix_accept_pause, tls_accept_pause;
  // Each TLS session holds the context it began with, so a later certificate (renewal)
  // can replace this one without touching open connections.
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<TlsStatus> tls;
  std::vector<Route> routes;
  std::vector<WebSocketRoute> websocket_routes;
  bool stopped = false;
  ConnectionStats stats;
  ThrottledWarning over_limit_warning, descriptors_warning, handshake_warning;

  bool redirects_plain() const { return tls && options.tls && options.tls->redirect_plain; }

  const WebSocketRoute* websocket_route(ApiRequest& req) const {
    const auto segs = split_path(req.path);
    for (const auto& r : websocket_routes)
      if (matches(Route{"GET", r.segments, {}}, segs, req.params)) return &r;
    return nullptr;
  }

  void dispatch(ApiRequest& req, Responder respond) const {
    const auto segs = split_path(req.path);
    bool path_known = false;
    for (const auto& r : routes) {
      if (!matches(r, segs, req.params)) continue;
      path_known = true;
      if (r.method == req.method) return r.handler(req, std::move(respond));
    }
    respond(path_known ? http_error(405, "method_not_allowed",
                                    req.method + " is not allowed on " + req.path)
                       : http_error(404, "not_found", "no such endpoint: " + req.path));
  }

  void accept();
  void accept_unix();
  void accept_tls();
  void admit(tcp::socket socket, bool over_tls);
  bool paused_for_descriptors(const beast::error_code& ec, asio::steady_timer& pause,
                              void (Impl::*resume)());
};

// Held by a TCP connection's session, and by its WebSocket after an upgrade: the server
// counts open connections by these.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<HttpServer::Impl> server) : server_(std::move(server)) {
    ++server_->stats.open;
  }
  ~ConnectionSlot() { --server_->stats.open; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<HttpServer::Impl> server_;
};

namespace {

http::response<http::string_body> to_response(const ApiResponse& out) {
  http::response<http::string_body> response;
  response.version(11);
  response.result(out.status);
  response.set(http::field::server, "fulfild");
  response.set(http::field::content_type, out.content_type);
  response.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : out.headers) response.set(name, value);
  response.body() = out.body;
  response.prepare_payload();
  return response;
}

std::optional<unsigned> peer_uid(any_socket& socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return std::nullopt;
  return static_cast<unsigned>(cred.uid);
}

// An accepted WebSocket: a read loop for the peer's messages and a write queue (Beast
// allows one write in flight). Over plain TCP or TLS (Stream), the same.
template <class Stream>
class WebSocketSession : public WebSocketChannel,
                         public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream stream, std::shared_ptr<ConnectionSlot> slot,
                   std::shared_ptr<asio::ssl::context> tls_context)
      : tls_context_(std::move(tls_context)), ws_(std::move(stream)), slot_(std::move(slot)) {}

  template <class Request>
  void accept(const Request& request) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "fulfild"); }));
    ws_.read_message_max(64 * 1024);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->ended();
      self->accepted_ = true;
      self->read();
      self->write_next();
    });
  }

  void send(std::string text) override {
    if (closed_) return;
    if (queue_.size() >= kMaxQueued) {
      log::warn("http", "websocket peer too slow; disconnecting", {{"queued", kMaxQueued}});
      return close();
    }
    queue_.push_back(std::move(text));
    if (!writing_ && accepted_) write_next();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    drop_queued();
    if (!accepted_) return ended();
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](beast::error_code) { self->ended(); });
  }

  bool is_open() const override { return !closed_; }

  // The upgrade was refused: answer in plain HTTP on the stream and hang up.
  void refuse(const ApiResponse& out) {
    closed_ = ended_ = true;
    auto response = std::make_shared<http::response<http::string_body>>(to_response(out));
    response->keep_alive(false);
    auto& stream = ws_.next_layer();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    http::async_write(stream, *response,
                      [self = this->shared_from_this(), response](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        auto& socket = beast::get_lowest_layer(self->ws_).socket();
                        socket.shutdown(asio::socket_base::shutdown_both, ignored);
                        socket.close(ignored);
                      });
  }

 private:
  static constexpr std::size_t kMaxQueued = 1024;
  std::shared_ptr<asio::ssl::context> tls_context_;  // outlives ws_ (TLS only)
  websocket::stream<Stream> ws_;
  std::shared_ptr<ConnectionSlot> slot_;  // null on the Unix socket
  beast::flat_buffer in_;
  std::deque<std::string> queue_;
  bool accepted_ = false;
  bool writing_ = false;  // queue_.front() is the buffer of a write in flight
  bool closed_ = false;
  bool ended_ = false;

  // Messages not yet being written; the one in flight stays until its write completes.
  void drop_queued() {
    while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
  }

  void read() {
    ws_.async_read(in_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->ended();
      auto text = beast::buffers_to_string(self->in_.data());
      self->in_.consume(self->in_.size());
      if (self->on_message) self->on_message(text);
      self->read();
    });
  }

  void write_next() {
    if (queue_.empty() || closed_ || writing_) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->queue_.pop_front();
                      if (ec) return self->ended();
                      self->write_next();
                    });
  }

  void ended() {
    closed_ = true;
    drop_queued();
    if (ended_) return;
    ended_ = true;
    if (auto callback = std::move(on_close)) callback();
    on_message = nullptr;
  }
};

// The host a redirect names: the one the client asked for (its Host header without the
// port) when that is a plain host name or address, else the HTTPS listener's address.
std::string redirect_host(const std::string& host_header, const ApiOptions::Tls& tls) {
  std::string host = host_header;
  if (!host.empty() && host.front() == '[')
    host = host.substr(0, host.find(']') == std::string::npos ? 0 : host.find(']') + 1);
  else
    host = host.substr(0, host.find(':'));
  const bool plain =
      !host.empty() && host.size() <= 255 &&
      std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
      });
  if (plain) return host;
  if (tls.host == "0.0.0.0" || tls.host == "::") return "localhost";
  return tls.host.find(':') != std::string::npos ? "[" + tls.host + "]" : tls.host;
}

// One connection: read a request (bounded size and time), answer, repeat while keep-alive.
// Over TLS (Stream = tls_stream) the handshake comes first, within its own deadline.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(any_socket socket, std::shared_ptr<HttpServer::Impl> server,
          std::shared_ptr<ConnectionSlot> slot)
      : tls_context_(server->tls_context),
        stream_(make_stream(std::move(socket), tls_context_.get())),
        server_(std::move(server)),
        slot_(std::move(slot)),
        via_unix_(!slot_) {}

  void start() {
    if constexpr (kIsTls<Stream>) {
      lowest().expires_after(server_->options.tls->handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->handshake_failed(ec);
                                self->read();
                              });
    } else {
      read();
    }
  }

 private:
  std::shared_ptr<asio::ssl::context> tls_context_;  // outlives stream_ (TLS only)
  Stream stream_;
  // Room for a whole header block and more: the parser's header limit is what refuses one.
  beast::flat_buffer buffer_{2 * kMaxRequestHeaderBytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::shared_ptr<ConnectionSlot> slot_;  // null on the Unix socket
  bool via_unix_ = false;
  std::string truncated_;

  static Stream make_stream(any_socket socket, [[maybe_unused]] asio::ssl::context* context) {
    if constexpr (kIsTls<Stream>)
      return Stream(std::move(socket), *context);
    else
      return Stream(std::move(socket));
  }

  any_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // A port scan, a client that does not trust the certificate, one offering TLS 1.1 or
  // sending plain HTTP, or one that says nothing: each costs a line (throttled) and a slot
  // only until the deadline.
  void handshake_failed(const beast::error_code& ec) {
    ++server_->stats.tls_handshake_failures;
    if (server_->handshake_warning.due())
      log::info("http", "TLS handshake failed",
                {{"error", ec.message()},
                 {"failures_since_last_line", server_->handshake_warning.take_unsaid() + 1}});
    close();
  }

  // Plain HTTP when HTTPS is on: the same path over HTTPS, method and body kept (308).
  ApiResponse redirect(const http::request<http::string_body>& req) const {
    const auto& tls = *server_->options.tls;
    const std::string location = "https://" +
                                 redirect_host(std::string(req[http::field::host]), tls) + ":" +
                                 std::to_string(server_->tls->port) + std::string(req.target());
    auto out =
        http_error(308, "https_required", "this API is served over HTTPS only; use " + location);
    out.headers.push_back({"Location", location});
    return out;
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(kMaxRequestHeaderBytes);
    lowest().expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  ApiRequest to_api_request(http::request<http::string_body>& req) {
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const auto q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos)
      request.query = parse_query(std::string_view(request.target).substr(q + 1));
    for (const auto& h : req) {
      std::string name(h.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(h.value());
    }
    request.body = std::move(req.body());
    request.via_unix_socket = via_unix_;
    request.via_tls = kIsTls<Stream>;
    if (via_unix_) request.peer_uid = peer_uid(lowest().socket());
    return request;
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::ssl::error::stream_truncated)
      return close();
    if (ec == http::error::body_limit)
      return respond(http_error(413, "body_too_large",
                                "request body exceeds " +
                                    std::to_string(server_->options.max_body_bytes) + " bytes"),
                     false);
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      const auto limit = std::to_string(kMaxRequestHeaderBytes);
      log::warn("http", "request refused: its headers are too large", {{"limit_bytes", limit}});
      return respond(http_error(431, "headers_too_large",
                                "the request line and headers exceed " + limit +
                                    " bytes together; send fewer or shorter headers"),
                     false);
    }
    if (ec) {
      log::warn("http", "malformed request refused", {{"error", ec.message()}});
      return respond(http_error(400, "bad_request", "malformed HTTP request: " + ec.message()),
                     false);
    }
    auto& req = parser_->get();
    if (!kIsTls<Stream> && !via_unix_ && server_->redirects_plain() &&
        req.target().substr(0, req.target().find('?')) != "/health")
      return respond(redirect(req), req.keep_alive());
    if (websocket::is_upgrade(req)) return upgrade(req);
    ApiRequest request = to_api_request(req);
    const bool keep_alive = req.keep_alive();
    // No timeout while a handler holds the request (a long-poll answers when it answers).
    lowest().expires_never();
    Responder respond_once(
        [self = this->shared_from_this(), keep_alive](ApiResponse out, Delivery how) {
          self->respond(out, keep_alive, how);
        });
    try {
      server_->dispatch(request, std::move(respond_once));
    } catch (const std::exception& e) {
      log::error("http", "handler failed", {{"target", request.target}, {"error", e.what()}});
      respond(http_error(500, "internal", "internal error"), false);
    }
  }

  void upgrade(http::request<http::string_body>& req) {
    ApiRequest request = to_api_request(req);
    const WebSocketRoute* route = server_->websocket_route(request);
    if (!route)
      return respond(http_error(404, "not_found", "no such WebSocket: " + request.path), false);
    auto channel =
        std::make_shared<WebSocketSession<Stream>>(std::move(stream_), slot_, tls_context_);
    std::optional<ApiResponse> refusal;
    try {
      refusal = route->accept(request, channel);
    } catch (const std::exception& e) {
      log::error("http", "websocket handler failed",
                 {{"target", request.target}, {"error", e.what()}});
      refusal = http_error(500, "internal", "internal error");
    }
    if (refusal) {
      // The stream now belongs to the channel: answer through a plain write on it.
      channel->on_close = nullptr;
      return channel->refuse(*refusal);
    }
    channel->accept(req);
  }

  void respond(const ApiResponse& out, bool keep_alive, Delivery how = Delivery::whole) {
    if (how == Delivery::reset) {
      beast::error_code ignored;
      lowest().socket().set_option(asio::socket_base::linger(true, 0), ignored);
      lowest().socket().close(ignored);
      return;
    }
    response_ = to_response(out);
    // Browsers then use HTTPS for this host without asking over plain HTTP first.
    if constexpr (kIsTls<Stream>)
      response_.set(http::field::strict_transport_security, "max-age=31536000");
    response_.keep_alive(keep_alive && how == Delivery::whole);
    lowest().expires_after(std::chrono::seconds(30));
    if (how == Delivery::truncated) {
      // Promise the whole body, deliver half, hang up.
      std::ostringstream head;
      head << response_.base();
      truncated_ = head.str() + out.body.substr(0, out.body.size() / 2);
      asio::async_write(
          stream_, asio::buffer(truncated_),
          [self = this->shared_from_this()](beast::error_code, std::size_t) { self->close(); });
      return;
    }
    const bool again = response_.keep_alive();
    http::async_write(stream_, response_,
                      [self = this->shared_from_this(), again](beast::error_code ec, std::size_t) {
                        if (ec || !again) return self->close();
                        self->read();
                      });
  }

  // Over TLS too the socket is just closed (no close_notify): every answer has its
  // length, so a client loses nothing, and no slot waits on a peer's shutdown.
  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(asio::socket_base::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(io, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (self->paused_for_descriptors(ec, self->accept_pause, &Impl::accept)) return;
    if (!ec) self->admit(std::move(socket), false);
    self->accept();
  });
}

void HttpServer::Impl::accept_tls() {
  tls_acceptor.async_accept(
      io, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped) return;
        if (self->paused_for_descriptors(ec, self->tls_accept_pause, &Impl::accept_tls)) return;
        if (!ec) self->admit(std::move(socket), true);
        self->accept_tls();
      });
}

void HttpServer::Impl::accept_unix() {
  unix_acceptor.async_accept(io, [self = shared_from_this()](beast::error_code ec,
                                                             unix_socket::socket socket) {
    if (self->stopped) return;
    if (self->paused_for_descriptors(ec, self->unix_accept_pause, &Impl::accept_unix)) return;
    if (!ec)
      std::make_shared<Session<any_stream>>(any_socket(std::move(socket)), self, nullptr)->start();
    self->accept_unix();
  });
}

// Over the limit, the connection is closed at once (a reset: nothing is read or written),
// so an idle flood holds at most max_connections descriptors.
void HttpServer::Impl::admit(tcp::socket socket, bool over_tls) {
  if (stats.open >= options.max_connections) {
    ++stats.refused_over_limit;
    beast::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
    if (over_limit_warning.due())
      log::warn("http", "connection refused: the connection limit is reached",
                {{"limit", options.max_connections},
                 {"refused_since_last_warning", over_limit_warning.take_unsaid() + 1},
                 {"setting", "api.max_connections"}});
    return;
  }
  auto slot = std::make_shared<ConnectionSlot>(shared_from_this());
  if (over_tls)
    std::make_shared<Session<tls_stream>>(any_socket(std::move(socket)), shared_from_this(),
                                          std::move(slot))
        ->start();
  else
    std::make_shared<Session<any_stream>>(any_socket(std::move(socket)), shared_from_this(),
                                          std::move(slot))
        ->start();
}

// Out of file descriptors (or kernel memory), accept fails and leaves the connection in
// the backlog: accepting again at once fails again at once, which spun at 100 % CPU and
// served nothing. Accepting pauses instead, while open connections finish and free theirs.
bool HttpServer::Impl::paused_for_descriptors(const beast::error_code& ec,
                                              asio::steady_timer& pause, void (Impl::*resume)()) {
  const bool exhausted = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
  if (!exhausted) return false;
  ++stats.accept_failures;
  if (descriptors_warning.due())
    log::error("http", "cannot accept connections: out of file descriptors; pausing accepts",
               {{"error", ec.message()},
                {"open_connections", stats.open},
                {"failures_since_last_warning", descriptors_warning.take_unsaid() + 1},
                {"hint", "raise LimitNOFILE= or lower api.max_connections"}});
  pause.expires_after(std::chrono::milliseconds(250));
  pause.async_wait([self = shared_from_this(), resume](const beast::error_code& wait_ec) {
    if (!wait_ec && !self->stopped) ((*self).*resume)();
  });
  return true;
}

HttpServer::HttpServer(asio::io_context& io, ApiOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  route_async(method, pattern, [h = std::move(handler)](const ApiRequest& req, Responder respond) {
    respond(h(req));
  });
}

void HttpServer::route_async(const std::string& method, const std::string& pattern,
                             AsyncHandler handler) {
  impl_->routes.push_back({method, split_path(pattern), std::move(handler)});
}

void HttpServer::route_websocket(const std::string& pattern, WebSocketAccept accept) {
  impl_->websocket_routes.push_back({split_path(pattern), std::move(accept)});
}

std::vector<std::string> HttpServer::route_list() const {
  auto join = [](const std::vector<std::string>& segments) {
    std::string path;
    for (const auto& s : segments) path += "/" + s;
    return path.empty() ? std::string("/") : path;
  };
  std::vector<std::string> out;
  for (const auto& r : impl_->routes) out.push_back(r.method + " " + join(r.segments));
  for (const auto& r : impl_->websocket_routes) out.push_back("GET " + join(r.segments));
  return out;
}

namespace {

// A stale socket file from a killed daemon is replaced; anything else at the path is not
// ours to delete.
Expected<void, std::string> listen_unix(unix_socket::acceptor& a, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return unexpected(path + " exists and is not a socket");
    ::unlink(path.c_str());
  }
  beast::error_code ec;
  unix_socket::endpoint endpoint(path);
  if (a.open(endpoint.protocol(), ec); ec) return unexpected("socket: " + ec.message());
  const mode_t old_mask = ::umask(0117);  // rw for owner and group only
  a.bind(endpoint, ec);
  ::umask(old_mask);
  if (ec) return unexpected("cannot listen on " + path + ": " + ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return unexpected("listen on " + path + ": " + ec.message());
  return {};
}

Expected<std::uint16_t, std::string> listen_tcp(tcp::acceptor& a, std::string host,
                                                std::uint16_t port) {
  beast::error_code ec;
  if (host == "localhost") host = "127.0.0.1";
  auto address = asio::ip::make_address(host, ec);
  if (ec) return unexpected("'" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, port);
  if (a.open(endpoint.protocol(), ec); ec) return unexpected("socket: " + ec.message());
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(endpoint, ec); ec)
    return unexpected("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                      ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return unexpected("listen: " + ec.message());
  return a.local_endpoint().port();
}

// TLS 1.2 suites for the ciphers allowed: forward secret (ECDHE) and authenticated
// encryption (GCM, ChaCha20-Poly1305) only. TLS 1.3's own suites are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384";

Expected<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(TlsIdentity& id) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Resumption: a terminal reconnecting skips the full handshake (tickets, and the
  // server-side cache for clients without them).
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  static constexpr unsigned char kSessionContext[] = "fulfild-api";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  beast::error_code ec;
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    return unexpected(std::string("no TLS cipher of the list is available"));
  context->use_certificate_chain(asio::buffer(id.certificate_pem), ec);
  if (!ec) context->use_private_key(asio::buffer(id.key_pem), asio::ssl::context::pem, ec);
  // The key lives on in the context only.
  OPENSSL_cleanse(id.key_pem.data(), id.key_pem.size());
  id.key_pem.clear();
  if (ec) return unexpected("the TLS certificate or key: " + ec.message());
  return context;
}

}  // namespace

Expected<std::uint16_t, std::string> HttpServer::start() {
  auto port = listen_tcp(impl_->acceptor, impl_->options.host, impl_->options.port);
  if (!port) return port;
  if (const auto& tls = impl_->options.tls) {
    auto id = load_or_create_tls_identity(tls->identity_dir, tls->names);
    if (!id) return unexpected("TLS identity: " + id.error());
    auto context = make_tls_context(*id);
    if (!context) return unexpected(context.error());
    auto tls_port = listen_tcp(impl_->tls_acceptor, tls->host, tls->port);
    if (!tls_port) return unexpected("HTTPS: " + tls_port.error());
    impl_->tls_context = std::move(*context);
    impl_->tls = TlsStatus{*tls_port, id->fingerprint_sha256, id->not_after_ms, id->self_signed};
  }
  if (!impl_->options.unix_socket.empty()) {
    if (auto ok = listen_unix(impl_->unix_acceptor, impl_->options.unix_socket); !ok)
      return unexpected(ok.error());
    impl_->accept_unix();
  }
  impl_->accept();
  if (impl_->tls) impl_->accept_tls();
  return port;
}

std::optional<TlsStatus> HttpServer::tls_status() const {
  return impl_->tls;
}

bool HttpServer::listening() const {
  return !impl_->stopped && impl_->acceptor.is_open();
}

HttpServer::ConnectionStats HttpServer::connection_stats() const {
  return impl_->stats;
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->accept_pause.cancel();
  impl_->unix_accept_pause.cancel();
  impl_->tls_accept_pause.cancel();
  impl_->acceptor.close(ignored);
  impl_->tls_acceptor.close(ignored);
  if (impl_->unix_acceptor.is_open()) {
    impl_->unix_acceptor.close(ignored);
    ::unlink(impl_->options.unix_socket.c_str());
  }
}

}  // namespace fulfil::agent
