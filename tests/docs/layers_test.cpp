// The layers as the README's Architecture section draws them: no folder includes a header
// of a layer above it, and none reaches into another folder's sources. The linker keeps
// most of this already (each folder is a library); this also catches a header-only reach
// the linker cannot see.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Each layer: the folders it is made of, and the layers it may include directly (its
// public headers are "<layer>/..."). What a layer may include is the closure of this.
// The mains (main_*.cpp) sit on top of everything and are checked for the second rule only.
struct Layer {
  std::vector<std::string> folders;
  std::set<std::string> below;
};
const std::map<std::string, Layer> kLayers = {
    {"config", {{"config"}, {}}},
    {"codes", {{"drivers/src/codes", "drivers/include/codes"}, {"config"}}},
    {"drivers",
     {{"drivers/src/documents", "drivers/src/printers", "drivers/src/printing",
       "drivers/src/scanners", "drivers/include/drivers"},
      {"codes"}}},
    {"storage", {{"agent/src/storage", "agent/include/storage"}, {"config"}}},
    {"domain", {{"agent/src/domain", "agent/include/domain"}, {"storage", "codes"}}},
    {"http", {{"agent/src/http", "agent/include/http"}, {"config"}}},
    {"devices", {{"agent/src/devices", "agent/include/devices"}, {"domain", "drivers"}}},
    {"api", {{"agent/src/api", "agent/include/api"}, {"devices", "http"}}},
    {"daemon", {{"agent/src/daemon", "agent/include/daemon"}, {"api"}}},
    {"ctl", {{"agent/src/ctl"}, {"drivers"}}},
    // The cloud link: a component the daemon runs (daemon/daemon.hpp); the reference cloud
    // simulator beside it needs only http (the linker holds it to that: fulfil_cloudsim).
    {"sync", {{"sync"}, {"daemon"}}},
    // fulfild --demo: a sample store and its cloud in the process.
    {"demo", {{"agent/src/demo", "agent/include/demo"}, {"sync"}}},
};

std::set<std::string> may_include(const std::string& layer) {
  std::set<std::string> out{layer};
  std::vector<std::string> todo{layer};
  while (!todo.empty()) {
    const std::string next = todo.back();
    todo.pop_back();
    for (const auto& below : kLayers.at(next).below)
      if (out.insert(below).second) todo.push_back(below);
  }
  return out;
}

struct Include {
  std::string file;
  int line;
  std::string target;
};

std::vector<Include> quoted_includes(const fs::path& root, const std::string& folder) {
  static const std::regex include(R"(^\s*#\s*include\s+"([^"]+)\")");
  std::vector<Include> out;
  for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
    std::ifstream in(entry.path());
    std::string text;
    for (int n = 1; std::getline(in, text); ++n) {
      std::smatch m;
      if (std::regex_search(text, m, include))
        out.push_back({fs::relative(entry.path(), root).string(), n, m[1]});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every folder of the tree belongs to a layer") {
  const fs::path root = FULFIL_SOURCE_DIR;
  std::set<std::string> known;
  for (const auto& layer : kLayers)
    for (const auto& folder : layer.second.folders) known.insert(folder);
  for (const std::string top : {"agent/src", "agent/include", "drivers/src", "drivers/include"})
    for (const auto& entry : fs::directory_iterator(root / top)) {
      if (!entry.is_directory()) continue;
      const std::string folder = fs::relative(entry.path(), root).string();
      CHECK_MESSAGE(known.count(folder) == 1, folder << " is in no layer of kLayers");
    }
}

TEST_CASE("no folder includes a header of a layer above it or another folder's sources") {
  const fs::path root = FULFIL_SOURCE_DIR;
  std::size_t checked = 0;
  for (const auto& layer : kLayers) {
    const std::string& name = layer.first;  // not a structured binding: the checks capture it
    const std::set<std::string> allowed = may_include(name);
    for (const auto& folder : layer.second.folders)
      for (const auto& inc : quoted_includes(root, folder)) {
        ++checked;
        CAPTURE(inc.file);
        CAPTURE(inc.line);
        CAPTURE(inc.target);
        // "../x" or "other/src/x" would reach into sources that are no folder's offer.
        CHECK_MESSAGE(inc.target.find("..") == std::string::npos,
                      "a relative include leaves its folder");
        CHECK_MESSAGE(inc.target.find("/src/") == std::string::npos,
                      "an include reaches into another folder's sources");
        const auto slash = inc.target.find('/');
        if (slash == std::string::npos) continue;  // a header of the file's own folder
        const std::string target = inc.target.substr(0, slash);
        CHECK_MESSAGE(kLayers.count(target) == 1, inc.target << " is in no layer");
        const bool main = fs::path(inc.file).filename().string().rfind("main_", 0) == 0;
        CHECK_MESSAGE((main || allowed.count(target) == 1),
                      name << " may not include " << target << "/: it is not below it");
      }
  }
  CHECK(checked > 100);  // the walk found the tree
}

TEST_CASE("the table itself: no layer is below itself, the domain is below the api") {
  for (const auto& layer : kLayers)
    for (const auto& below : layer.second.below) {
      CAPTURE(below);
      CHECK(may_include(below).count(layer.first) == 0);
    }
  CHECK(may_include("api").count("domain") == 1);
  CHECK(may_include("domain").count("http") == 0);
  CHECK(may_include("domain").count("drivers") == 0);
}
