#include "api_listeners.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <vector>

namespace fulfil::agent {
namespace {

// What a certificate the box makes for itself names it by: where terminals reach it.
std::vector<std::string> tls_names(const config::Settings& settings) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& name) {
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  };
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) add(host);
  const auto& https = settings.api.https_listen_host;
  if (https != "0.0.0.0" && https != "::") add(https);
  add("localhost");
  add("127.0.0.1");
  for (const auto& name : settings.api.tls_names) add(name);
  return names;
}

}  // namespace

ApiOptions api_options(const config::Settings& settings, std::size_t max_connections) {
  ApiOptions o{settings.api.listen_host, settings.api.listen_port, settings.api.max_body_bytes,
               settings.api.socket, max_connections};
  if (settings.api.tls)
    o.tls = ApiOptions::Tls{settings.api.https_listen_host,
                            settings.api.https_listen_port,
                            settings.storage.state_dir + "/tls",
                            tls_names(settings),
                            std::chrono::milliseconds(settings.api.tls_handshake_timeout_ms),
                            settings.api.http_redirect};
  return o;
}

// Tokens and customers' details would cross the store's Wi-Fi in clear text.
std::string plain_http_exposure(const config::Settings& settings) {
  if (settings.api.tls && settings.api.http_redirect) return "";
  boost::system::error_code ec;
  const auto& host = settings.api.listen_host;
  const auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (!ec && address.is_loopback()) return "";
  return "plain_http_off_loopback: the API serves plain HTTP on " + host + ":" +
         std::to_string(settings.api.listen_port) +
         ", so tokens and customers' details cross the network in clear text; set api.tls "
         "to on (and api.http to redirect)";
}

nlohmann::json tls_health(const HttpServer& server, const config::Settings& settings) {
  const auto tls = server.tls_status();
  if (!tls) return nullptr;
  return {{"listen", settings.api.https_listen_host + ":" + std::to_string(tls->port)},
          {"fingerprint", tls->fingerprint_sha256},
          {"not_after", tls->not_after_ms},
          {"self_signed", tls->self_signed},
          {"handshake_failures", server.connection_stats().tls_handshake_failures}};
}

}  // namespace fulfil::agent
