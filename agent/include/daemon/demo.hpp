#pragma once
// The sample store used by `fulfild --demo`: a catalog with GTIN barcodes and bin
// locations, opening stock, and routed orders that keep arriving.
#include <cstdint>
#include <random>

#include "domain/store.hpp"

namespace fulfil::agent {

inline constexpr int kDemoSkuCount = 300;

// Seeds an empty store (catalog + opening stock); does nothing if the catalog exists.
Result<void> seed_demo_store(Store& store, std::int64_t now_ms);

// A plausible routed order over the demo catalog (1-3 lines, ship or pickup).
FulfilmentOrder demo_order(std::mt19937& rng, int number, std::int64_t now_ms);

}  // namespace fulfil::agent
