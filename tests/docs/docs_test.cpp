// Documentation that users rely on must match the code: the README's configuration
// reference is the schema's, and the shipped example configuration is valid.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "config/settings.hpp"

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
