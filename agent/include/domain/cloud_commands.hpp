#pragma once
// Commands from the cloud's feed, applied exactly once. A command's effect, its inbox
// record (keyed by command id) and the feed cursor commit in one transaction, so a crash
// at any point either applied all three or none. A command the store cannot apply is
// committed as rejected (with a command.rejected event for the cloud) so one poison
// command never stalls the feed; only a database failure leaves it for a retry.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/domain.hpp"
#include "domain/store.hpp"

namespace fulfil::agent {

struct FeedCommand {
  std::string id;
  std::string type;
  std::string cursor;  // feed position just after this command
  std::int64_t issued_at = 0;
  nlohmann::json payload;
};

enum class CommandOutcome { applied, duplicate, rejected, deferred };
std::string_view outcome_name(CommandOutcome outcome);

struct CommandResult {
  CommandOutcome outcome = CommandOutcome::applied;
  std::string detail;  // why it was rejected
};

// Reads a command envelope from the feed; `fallback_cursor` is used when the command
// carries none. An envelope without a usable id gets a synthetic one derived from the
// cursor, so even garbage is recorded (and reported) exactly once.
FeedCommand feed_command_from(const nlohmann::json& j, const std::string& fallback_cursor);

class CloudCommands {
 public:
  explicit CloudCommands(Store& store) : store_(store) {}
  Result<CommandResult> apply(const FeedCommand& command, std::int64_t now_ms);
  std::string cursor();
  // For a page with no commands that still moves the cursor.
  Result<void> advance_cursor(const std::string& cursor);
  std::int64_t applied_count();

  // Asks the cloud (through the heartbeat) for an inventory.snapshot to re-base stock on;
  // kept across restarts until a snapshot is applied.
  Result<void> request_snapshot(const std::string& reason, std::int64_t now_ms);
  // {"reason", "since"} while a request is outstanding, else null.
  nlohmann::json snapshot_requested();

 private:
  Result<CommandOutcome> dispatch(const FeedCommand& command, const CommandContext& ctx);
  Result<CommandOutcome> shipping_label(const nlohmann::json& payload, const CommandContext& ctx);
  Result<CommandOutcome> inbound_shipment(const nlohmann::json& payload, const CommandContext& ctx);
  Result<CommandOutcome> transfer_requested(const nlohmann::json& payload,
                                            const CommandContext& ctx);
  Result<CommandOutcome> transfer_cancelled(const nlohmann::json& payload,
                                            const CommandContext& ctx);
  Store& store_;
};

}  // namespace fulfil::agent
