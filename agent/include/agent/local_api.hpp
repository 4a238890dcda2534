#pragma once
// The local HTTP API that in-store terminals talk to (Boost.Beast, on the agent's
// io_context). Handlers run on the loop thread, so they may call the domain directly.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "config/expected.hpp"

namespace fulfil::agent {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/health"
  std::string body;
};

struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
};

struct ApiOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;
};

// A JSON error body with a stable machine-readable code and a message for people.
ApiResponse api_error(unsigned status, const std::string& code, const std::string& message);

class LocalApi {
 public:
  using Handler = std::function<ApiResponse(const ApiRequest&)>;
  LocalApi(boost::asio::io_context& io, ApiOptions options);
  ~LocalApi();

  void route(const std::string& method, const std::string& path, Handler handler);
  // Binds and starts accepting; returns the bound port (useful with port 0).
  Expected<std::uint16_t, std::string> start();
  void stop();

  struct Impl;  // public so the connection sessions in the .cpp can hold it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::agent
