#include "agent/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/log.hpp"

namespace fulfil::agent {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ApiResponse api_error(unsigned status, const std::string& code, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, ApiOptions o) : io(io), options(std::move(o)), acceptor(io) {}
  asio::io_context& io;
  ApiOptions options;
  tcp::acceptor acceptor;
  std::vector<Route> routes;
  bool stopped = false;

  void dispatch(ApiRequest& req, Responder respond) const {
    const auto segs = split_path(req.path);
    bool path_known = false;
    for (const auto& r : routes) {
      if (!matches(r, segs, req.params)) continue;
      path_known = true;
      if (r.method == req.method) return r.handler(req, std::move(respond));
    }
    respond(path_known ? api_error(405, "method_not_allowed",
                                   req.method + " is not allowed on " + req.path)
                       : api_error(404, "not_found", "no such endpoint: " + req.path));
  }

  void accept();
};

namespace {

// One connection: read a request (bounded size and time), answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void start() { read(); }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string truncated_;

  void read() {
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return close();
    if (ec == http::error::body_limit)
      return respond(api_error(413, "body_too_large",
                               "request body exceeds " +
                                   std::to_string(server_->options.max_body_bytes) + " bytes"),
                     false);
    if (ec)
      return respond(api_error(400, "bad_request", "malformed HTTP request: " + ec.message()),
                     false);
    auto& req = parser_->get();
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
    const bool keep_alive = req.keep_alive();
    // No timeout while a handler holds the request (a long-poll answers when it answers).
    stream_.expires_never();
    auto respond_once = [self = shared_from_this(), keep_alive](ApiResponse out) {
      self->respond(out, keep_alive);
    };
    try {
      server_->dispatch(request, std::move(respond_once));
    } catch (const std::exception& e) {
      log::error("http", "handler failed", {{"target", request.target}, {"error", e.what()}});
      respond(api_error(500, "internal", "internal error"), false);
    }
  }

  void respond(const ApiResponse& out, bool keep_alive) {
    if (out.delivery == ApiResponse::Delivery::reset) {
      beast::error_code ignored;
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      stream_.socket().close(ignored);
      return;
    }
    response_ = {};
    response_.version(11);
    response_.result(out.status);
    response_.set(http::field::server, "fulfild");
    response_.set(http::field::content_type, out.content_type);
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : out.headers) response_.set(name, value);
    response_.keep_alive(keep_alive && out.delivery == ApiResponse::Delivery::normal);
    response_.body() = out.body;
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    if (out.delivery == ApiResponse::Delivery::truncate) {
      // Promise the whole body, deliver half, hang up.
      std::ostringstream head;
      head << response_.base();
      truncated_ = head.str() + out.body.substr(0, out.body.size() / 2);
      asio::async_write(
          stream_, asio::buffer(truncated_),
          [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
      return;
    }
    const bool again = response_.keep_alive();
    http::async_write(stream_, response_,
                      [self = shared_from_this(), again](beast::error_code ec, std::size_t) {
                        if (ec || !again) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(io, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) std::make_shared<Session>(std::move(socket), self)->start();
    self->accept();
  });
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

Expected<std::uint16_t, std::string> HttpServer::start() {
  beast::error_code ec;
  auto host = impl_->options.host == "localhost" ? std::string("127.0.0.1") : impl_->options.host;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return unexpected("'" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), ec); ec) return unexpected("socket: " + ec.message());
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(endpoint, ec); ec)
    return unexpected("cannot listen on " + host + ":" + std::to_string(impl_->options.port) +
                      ": " + ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return unexpected("listen: " + ec.message());
  impl_->accept();
  return a.local_endpoint().port();
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace fulfil::agent
