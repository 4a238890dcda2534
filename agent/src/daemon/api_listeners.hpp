#pragma once
// The local API's listeners as the configuration asks for them: plain HTTP, and HTTPS
// with the box's own certificate (api.tls), and what /health says about them.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/http_server.hpp"

namespace fulfil::agent {

// `max_connections`: api.max_connections as fitted to the open-file limit.
ApiOptions api_options(const config::Settings& settings, std::size_t max_connections);

// Plain HTTP that terminals may use from the network (api.tls off, or api.http serve, on
// an address other than loopback): the alarm's text, or empty when there is none.
std::string plain_http_exposure(const config::Settings& settings);

// The HTTPS listener and the certificate it serves, for /health; null when TLS is off.
nlohmann::json tls_health(const HttpServer& server, const config::Settings& settings);

}  // namespace fulfil::agent
