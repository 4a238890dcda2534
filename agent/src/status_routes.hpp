#pragma once
// Internal to agent/: the unauthenticated health endpoint (no customer data in it).
#include "agent/local_api.hpp"
#include "agent/store.hpp"
#include "config/settings.hpp"

namespace fulfil::agent {
void add_status_routes(LocalApi& api, Store& store, const config::Settings& settings,
                       const char* version);
}
