// Documentation that users rely on must match the code: the README's configuration
// reference is the schema's, the shipped example configuration is valid, and the terminal
// API's OpenAPI document lists exactly the routes the agent serves.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "agent/http_server.hpp"
#include "agent/terminal_api.hpp"
#include "config/settings.hpp"
#include "test_support.hpp"

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("README's configuration reference is the one generated from the schema") {
  const std::string readme = read(FULFIL_SOURCE_DIR "/README.md");
  const std::string reference = fulfil::config::reference_markdown();
  CHECK_MESSAGE(readme.find(reference) != std::string::npos,
                "README.md is out of date: paste the output of `fulfild --config-reference`");
}

TEST_CASE("the example configuration is valid and sets a non-default value") {
  auto settings = fulfil::config::load({FULFIL_SOURCE_DIR "/config/examples/fulfild.json", {}});
  REQUIRE_MESSAGE(settings.has_value(), (settings ? "" : settings.error().front().describe()));
  CHECK(settings->store.id != "store-0001");
}

namespace {
// "METHOD /path" for every operation in an OpenAPI document, path parameters as '*'.
std::set<std::string> documented_operations(const std::string& yaml) {
  std::set<std::string> ops;
  std::istringstream in(yaml);
  std::string line, path;
  const std::regex path_line(R"(^  (/[^:]*):\s*$)"),
      method_line(R"(^    (get|post|put|delete|patch):)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, path_line)) {
      path = std::regex_replace(m[1].str(), std::regex(R"(\{[^}]+\})"), "*");
    } else if (!path.empty() && std::regex_search(line, m, method_line)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ops.insert(method + " " + path);
    } else if (!line.empty() && line[0] != ' ') {
      path.clear();  // left the paths section
    }
  }
  return ops;
}
}  // namespace

TEST_CASE("the terminal API's OpenAPI document describes exactly the routes it serves") {
  auto ts = fulfil::test::open_test_store();
  auto settings = *fulfil::config::load({std::nullopt, {}});
  boost::asio::io_context io;
  fulfil::agent::HttpServer server(io, {"127.0.0.1", 0, 1024, ""});
  fulfil::agent::TerminalApi api(io, server, *ts, settings,
                                 {nullptr, nullptr, nullptr, nullptr, true});
  std::set<std::string> served;
  for (const auto& r : server.route_list()) served.insert(r);
  served.insert("GET /health");  // registered by the daemon itself
  const auto documented =
      documented_operations(read(FULFIL_SOURCE_DIR "/agent/terminal-api.openapi.yaml"));
  for (const auto& op : served) CHECK_MESSAGE(documented.count(op), "undocumented: " << op);
  for (const auto& op : documented)
    CHECK_MESSAGE(served.count(op), "documented, not served: " << op);
}
