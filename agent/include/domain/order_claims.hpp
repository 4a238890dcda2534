#pragma once
// Who is picking an order. An order being picked is claimed by one terminal: the first to
// start picking it, or to pick into it once its claim is released. Another terminal's picks
// are refused, naming the holder, so two associates never pick the same order twice over;
// a manager releases a claim (the associate went home, the tablet broke). The claim ends
// when the order leaves picking. Devices (a desk's hardware scanner) pick through the
// station session a terminal opened, and opening one takes the claim.
#include <cstdint>
#include <optional>
#include <string>

#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct OrderClaim {
  std::string order_id;
  std::string holder;  // the actor, e.g. "terminal:T-1a2b3c4d"
  std::int64_t claimed_at = 0;
  std::string holder_name;  // the terminal's name, or the holder when it is not a terminal
};

class OrderClaims {
 public:
  explicit OrderClaims(Database& db) : db_(db) {}
  std::optional<OrderClaim> of(const std::string& order_id);
  // Claims the order for the command's actor, or keeps the actor's claim; refused with
  // DomainErrc::claimed while another actor holds it. Only terminals and people claim:
  // the cloud, devices and the system act on orders without taking them.
  Result<void> take(const std::string& order_id, const CommandContext& ctx);
  // Whether a claim was released.
  bool release(const std::string& order_id);

 private:
  Database& db_;
};

}  // namespace fulfil::agent
