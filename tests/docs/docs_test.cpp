// Documentation that users rely on must match the code: the README's configuration
// reference is the schema's, the shipped example configuration is valid, and the terminal
// API's OpenAPI document lists exactly the routes the agent serves.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api/api_errors.hpp"
#include "api/terminal_api.hpp"
#include "config/settings.hpp"
#include "http/http_server.hpp"
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

namespace {
// ErrorCode's enum in the terminal API's document: each "- name  # status: ..." line.
std::map<std::string, unsigned> documented_error_codes(const std::string& yaml) {
  std::map<std::string, unsigned> out;
  std::istringstream in(yaml);
  std::string line;
  bool inside = false;
  const std::regex item(R"(^        - (\w+)\s+# (\d{3}):)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line == "    ErrorCode:") {
      inside = true;
    } else if (inside && line.rfind("    ", 0) == 0 && line[4] != ' ') {
      break;  // the next schema
    } else if (inside && std::regex_search(line, m, item)) {
      out[m[1]] = static_cast<unsigned>(std::stoul(m[2]));
    }
  }
  return out;
}
}  // namespace

TEST_CASE("the terminal API's error codes are the ones its document lists, with their statuses") {
  const auto documented =
      documented_error_codes(read(FULFIL_SOURCE_DIR "/agent/terminal-api.openapi.yaml"));
  std::map<std::string, unsigned> served;
  for (const auto& info : fulfil::agent::api::api_error_codes())
    served[std::string(info.name)] = info.status;
  CHECK(served.size() > 20);
  CHECK(documented == served);
  for (const auto& entry : served) {  // no structured binding: the checks capture it
    const std::string& name = entry.first;
    const unsigned status = entry.second;
    const auto it = documented.find(name);
    CHECK_MESSAGE(it != documented.end(), name << " is not in ErrorCode");
    if (it != documented.end()) CHECK_MESSAGE(it->second == status, name);
  }
  // The HTTP layer answers some of them itself, by name: those must be in the list too.
  const std::string server = read(FULFIL_SOURCE_DIR "/agent/src/http/http_server.cpp");
  const std::regex call(R"re(http_error\((\d{3}), "(\w+)")re");
  int found = 0;
  for (std::sregex_iterator i(server.begin(), server.end(), call), end; i != end; ++i, ++found) {
    const std::string name = (*i)[2];
    CAPTURE(name);
    REQUIRE(served.count(name) == 1);
    CHECK(served[name] == std::stoul((*i)[1]));
  }
  CHECK(found >= 5);
}
