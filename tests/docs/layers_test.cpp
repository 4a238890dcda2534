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

// Each folder and the public header roots ("<root>/...") it may include. The mains
// (main_*.cpp) sit on top of everything and are checked for the second rule only.
const std::map<std::string, std::set<std::string>> kMayInclude = {
    {"config", {"config"}},
    {"drivers", {"drivers", "config"}},
    {"agent", {"agent", "drivers", "config"}},
    {"sync", {"sync", "agent", "config"}},
};

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

TEST_CASE("no folder includes a header of a layer above it or another folder's sources") {
  const fs::path root = FULFIL_SOURCE_DIR;
  std::size_t checked = 0;
  for (const auto& rule : kMayInclude) {
    const std::string& folder = rule.first;  // not a structured binding: the checks capture it
    const std::set<std::string>& allowed = rule.second;
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
      const std::string layer = inc.target.substr(0, slash);
      if (!kMayInclude.count(layer)) continue;  // a folder of the same library ("api/...")
      const bool main = fs::path(inc.file).filename().string().rfind("main_", 0) == 0;
      CHECK_MESSAGE((main || allowed.count(layer) == 1),
                    folder << "/ may not include " << layer << "/: it is a layer above");
    }
  }
  CHECK(checked > 100);  // the walk found the tree
}
