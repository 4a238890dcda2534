#pragma once
// Asynchronous HTTP for the cloud link: libcurl's multi-socket interface driven by the
// agent's io_context (sockets watched by Asio, curl's timer on a steady_timer), so no
// request ever blocks the loop thread and nothing polls.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace fulfil::sync {

struct HttpClientOptions {
  std::string user_agent = "fulfild";
  std::string ca_file;            // CA bundle; empty: the system's
  std::string pinned_public_key;  // "sha256//BASE64;sha256//..." (curl's syntax); empty: none
  std::string proxy;              // "http://proxy:3128"; empty: none (curl also reads env vars)
  bool verify_tls = true;
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds connect_timeout{10000};
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // whole request, including a long-poll's wait
};

struct HttpResponse {
  long status = 0;                             // 0 when no HTTP response arrived
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string transport_error;  // connection refused, timeout, TLS, oversized...: empty on success
  bool too_large = false;       // the response exceeded max_response_bytes
  bool ok() const { return transport_error.empty() && status >= 200 && status < 300; }
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResponse)>;
  HttpClient(boost::asio::io_context& io, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request; `done` is called exactly once on the io_context, unless the client
  // is destroyed or cancel_all() is called first (then it is never called).
  void send(HttpRequest request, Callback done);
  void cancel_all();
  std::size_t in_flight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fulfil::sync
