#include "reason_effects.hpp"

#include <algorithm>
#include <array>

#include "state_names.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array<std::string_view, 4> kEffectNames = {"none", "count_zero", "reduce_on_hand",
                                                          "unsellable"};
static_assert(kEffectNames.size() == static_cast<std::size_t>(StockEffect::unsellable) + 1);

// The one movement an effect makes, or nothing (a zero delta) when the books already agree.
Movement plan(const ReasonEffect& effect, const StockLevel& level, const RefusedUnits& units,
              const std::string& order_id) {
  const std::string why = "refused: " + effect.reason;
  // Stock the store has promised (reserved, picked units in totes included) or cannot sell
  // stays on the books: the associate saw the shelf, not the totes or the damaged bin.
  const std::int64_t floor = level.unsellable + level.reserved + units.put_back;
  switch (effect.stock) {
    case StockEffect::none:
      break;
    case StockEffect::count_zero:
      return {units.sku, Bucket::on_hand, std::min<std::int64_t>(0, floor - level.on_hand), "count",
              why,       order_id};
    case StockEffect::reduce_on_hand:
      return {units.sku,
              Bucket::on_hand,
              -std::clamp<std::int64_t>(level.on_hand - floor, 0, units.quantity),
              "correction",
              why,
              order_id};
    case StockEffect::unsellable:
      return {units.sku,
              Bucket::unsellable,
              std::clamp<std::int64_t>(level.on_hand - level.unsellable, 0, units.quantity),
              "damage",
              why,
              order_id};
  }
  return {units.sku, Bucket::on_hand, 0, "", why, order_id};
}

}  // namespace

std::optional<StockEffect> stock_effect_from(std::string_view name) {
  return value_in<StockEffect>(kEffectNames, name);
}

std::string_view stock_effect_name(StockEffect effect) {
  return name_in(kEffectNames, effect);
}

ReasonEffect OrderPolicy::effect_of(const std::string& reason) const {
  for (const auto& e : reason_effects)
    if (e.reason == reason) return e;
  return {reason, StockEffect::none, 0};
}

Result<void> apply_stock_effect(StockLedger& ledger, const ReasonEffect& effect,
                                const RefusedUnits& units, const std::string& order_id,
                                const CommandContext& ctx, std::vector<Movement>& moves) {
  if (effect.stock == StockEffect::none || units.quantity <= 0) return {};
  auto level = ledger.level(units.sku);
  if (!level) return fail(DomainErrc::unknown_sku, "unknown SKU " + units.sku);
  Movement m = plan(effect, *level, units, order_id);
  if (m.delta == 0) return {};
  if (auto ok = ledger.post(m, ctx); !ok) return ok;
  moves.push_back(std::move(m));
  return {};
}

void describe_effect(nlohmann::json& payload, const ReasonEffect& effect,
                     const std::vector<Movement>& moves) {
  payload["movements"] = movements_json(moves);
  payload["stock_effect"] = stock_effect_name(effect.stock);
  payload["avoid_store_hours"] = effect.avoid_store_hours;
}

}  // namespace fulfil::agent
