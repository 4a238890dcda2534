#pragma once
// Internal to fulfilctl: one HTTP request to the local agent over its Unix socket.
#include <string>

#include "config/expected.hpp"

namespace fulfil::ctl {

struct AgentReply {
  long status = 0;
  std::string body;
};

// Fails (with a message saying what to check) only when the agent cannot be reached.
Expected<AgentReply, std::string> call_agent(const std::string& socket, const std::string& method,
                                             const std::string& path, const std::string& body);

// Percent-encodes text for a URL path segment or query value (curl_easy_escape).
std::string url_encode(const std::string& text);

}  // namespace fulfil::ctl
