#include "agent/local_api.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "config/log.hpp"

namespace fulfil::agent {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ApiResponse api_error(unsigned status, const std::string& code, const std::string& message) {
  return {status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump()};
}

struct LocalApi::Impl : std::enable_shared_from_this<LocalApi::Impl> {
  Impl(asio::io_context& io, ApiOptions o) : io(io), options(std::move(o)), acceptor(io) {}
  asio::io_context& io;
  ApiOptions options;
  tcp::acceptor acceptor;
  std::map<std::pair<std::string, std::string>, Handler> routes;
  bool stopped = false;

  ApiResponse dispatch(const ApiRequest& req) const {
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (auto it = routes.find({req.method, path}); it != routes.end()) return it->second(req);
    for (const auto& [key, _] : routes)
      if (key.second == path)
        return api_error(405, "method_not_allowed", req.method + " is not allowed on " + path);
    return api_error(404, "not_found", "no such endpoint: " + path);
  }

  void accept();
};

namespace {

// One connection: read a request (bounded size and time), answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<LocalApi::Impl> api)
      : stream_(std::move(socket)), api_(std::move(api)) {}

  void start() { read(); }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<LocalApi::Impl> api_;

  void read() {
    parser_.emplace();
    parser_->body_limit(api_->options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit) {
      return respond(api_error(413, "body_too_large",
                               "request body exceeds " +
                                   std::to_string(api_->options.max_body_bytes) + " bytes"),
                     false);
    }
    if (ec) return respond(api_error(400, "bad_request", "malformed HTTP request: " + ec.message()), false);
    auto& req = parser_->get();
    ApiRequest request{std::string(req.method_string()), std::string(req.target()), req.body()};
    ApiResponse out;
    try {
      out = api_->dispatch(request);
    } catch (const std::exception& e) {
      log::error("api", "handler failed", {{"target", request.target}, {"error", e.what()}});
      out = api_error(500, "internal", "internal error");
    }
    respond(out, req.keep_alive());
  }

  void respond(const ApiResponse& out, bool keep_alive) {
    response_ = {};
    response_.version(11);
    response_.result(out.status);
    response_.set(http::field::server, "fulfild");
    response_.set(http::field::content_type, out.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(keep_alive);
    response_.body() = out.body;
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

}  // namespace

void LocalApi::Impl::accept() {
  acceptor.async_accept(io,
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (self->stopped) return;
                          if (!ec) std::make_shared<Session>(std::move(socket), self)->start();
                          self->accept();
                        });
}

LocalApi::LocalApi(asio::io_context& io, ApiOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

LocalApi::~LocalApi() { stop(); }

void LocalApi::route(const std::string& method, const std::string& path, Handler handler) {
  impl_->routes[{method, path}] = std::move(handler);
}

Expected<std::uint16_t, std::string> LocalApi::start() {
  beast::error_code ec;
  auto host = impl_->options.host == "localhost" ? std::string("127.0.0.1") : impl_->options.host;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return unexpected("api.listen: '" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), ec); ec) return unexpected("api: socket: " + ec.message());
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(endpoint, ec); ec)
    return unexpected("api: cannot listen on " + host + ":" +
                      std::to_string(impl_->options.port) + ": " + ec.message());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return unexpected("api: listen: " + ec.message());
  impl_->accept();
  return a.local_endpoint().port();
}

void LocalApi::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace fulfil::agent
