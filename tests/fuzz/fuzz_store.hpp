#pragma once
// What the fuzz targets that need a store share: a real one (SQLite in a temporary
// directory, removed at exit) with a small catalog in stock and a routed order, FO-1,
// all of it arriving through the feed as the cloud would send it.
#include <memory>

#include "domain/store.hpp"

namespace fulfil::fuzz {

void require(bool ok);  // aborts (a finding) when not
std::unique_ptr<agent::Store> seeded_store(const char* name);

}  // namespace fulfil::fuzz
