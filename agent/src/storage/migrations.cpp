// Forward-only schema migrations. Each step is applied in its own transaction together
// with the new user_version, so a crash mid-migration leaves the previous version intact.
// Never edit a released step: add a new one.
#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.hpp"

namespace fulfil::embedded {
std::span<const std::string_view> schema_migrations();  // fulfil_embed_sequence
}

namespace fulfil::agent {
namespace {

// The migrations, numbered, as agent/src/storage/migrations/NNN_*.sql embedded at build
// time (CMakeLists.txt): each is readable and reviewable as SQL.
std::span<const std::string_view> migrations() {
  return embedded::schema_migrations();
}

}  // namespace

int current_schema_version() {
  return static_cast<int>(migrations().size());
}

namespace {

// The tables, indexes, views and triggers a database holds, as "type name".
std::set<std::string> schema_objects(Database& db) {
  std::set<std::string> out;
  auto s =
      db.prepare("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
  while (s.step()) out.insert(s.text(0));
  return out;
}

// Tables first (what a person recognises), then indexes and the rest.
std::string schema_objects_text(std::vector<std::string> names) {
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n.rfind("table ", 0) == 0; });
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
  return names.size() > 8 ? out + ", ..." : out;
}

}  // namespace

// Builds `version` from nothing in memory and compares the two: a user_version that was
// set by hand, or a file of another program, is caught here rather than half-way through
// a migration ("table pairing_code already exists").
std::optional<std::string> schema_mismatch(Database& db, int version) {
  auto reference = open_without_migrating(":memory:");
  if (!reference) throw StorageFailure(0, reference.error().message);
  migrate_to(**reference, version);
  const auto want = schema_objects(**reference);
  const auto have = schema_objects(db);
  std::vector<std::string> missing, unexpected;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                      std::back_inserter(unexpected));
  if (missing.empty() && unexpected.empty()) return std::nullopt;
  std::string out;
  if (!missing.empty()) out += "missing: " + schema_objects_text(missing);
  if (!unexpected.empty())
    out +=
        (out.empty() ? "" : "; ") + std::string("unexpected: ") + schema_objects_text(unexpected);
  return out;
}

void migrate_to(Database& db, int version) {
  for (int v = db.schema_version(); v < version; ++v) {
    Transaction tx(db);
    db.exec(std::string(migrations()[static_cast<std::size_t>(v)]));
    db.exec("PRAGMA user_version=" + std::to_string(v + 1));
    tx.commit();
  }
}

}  // namespace fulfil::agent
