#pragma once
// Count sessions: a manager plans a count of some bins (codes or prefixes) or SKUs, any
// number of associates count it blind by scanning, the manager reviews each line's
// variance, sends lines back for recounting, and approves: the differences post to the
// ledger (the same posting and `stock.counted` event as a raw cycle count, naming the
// session) and the session closes. Or it is cancelled, posting nothing.
//
// Stock keeps moving while a store counts. The session remembers the ledger position (the
// highest ledger row id) when it started and, for each line, when it was last counted. A
// line's expected figure is what the books held at its count: on hand at the start plus
// that SKU's movements up to the count. Approving applies counted - expected to the current
// on hand, so a pick after the shelf was counted is no variance and is kept.
//
// Each command is one transaction; a refusal (an illegal step, a closed session, an unknown
// barcode, an item not planned, a bad quantity) changes nothing and says why. Items not on
// the plan are refused, never added: a stray unit on a counted bin belongs to another bin's
// count, and adding it would post the rest of that SKU's stock as missing.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/domain.hpp"
#include "domain/inventory.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

inline constexpr std::size_t kMaxCountSessionLines = 2000;
inline constexpr std::int64_t kMaxCountScanQuantity = 10000;

enum class CountSessionState { counting, review, approved, cancelled };
enum class CountSessionAction { plan, scan, submit, recount, approve, cancel };
std::string_view count_session_state_name(CountSessionState s);
std::optional<CountSessionState> count_session_state_from(std::string_view name);
std::string_view count_session_action_name(CountSessionAction a);

// The session's state machine as data: `action` in `from` (none: the session does not
// exist yet) leads to `to`. Every command checks it; the predicates are derived from it.
struct CountSessionTransition {
  std::optional<CountSessionState> from;
  CountSessionAction action;
  CountSessionState to;
};
std::span<const CountSessionTransition> count_session_transitions();
const CountSessionTransition* find_count_session_transition(std::optional<CountSessionState> from,
                                                            CountSessionAction action);
// No action leaves it: approved or cancelled.
bool is_closed(CountSessionState s);

// "CS-7" or "7" -> 7.
std::optional<std::int64_t> count_session_id_from(std::string_view name);
std::string count_session_name(std::int64_t id);

struct CountPlan {
  std::vector<std::string> bins;  // a SKU whose bin starts with one of these (ASCII case ignored)
  std::vector<std::string> skus;
  std::string note;
};

// A ledger movement of a line's SKU while the session was open.
struct CountMovement {
  std::int64_t ledger_id = 0;
  std::string kind;  // sale, receipt, correction, ...
  std::int64_t delta = 0;
  std::string reason;
  std::string actor;
  std::int64_t at = 0;
  bool after_count = false;  // after the line's last count: kept when the difference posts
};

struct CountLine {
  std::string sku;
  std::string title;
  std::string bin;
  std::optional<std::int64_t> counted;  // none until someone counts it
  std::string counted_by;               // the last actor who counted it
  std::int64_t counted_at = 0;
  bool open = true;  // takes scans (all lines while counting, then the ones sent back)
  int round = 1;     // 2 after its first recount, ...
  // The recorded stock: for the manager's review, never for the counting associates.
  std::int64_t snapshot_on_hand = 0;         // when the session started
  std::int64_t moved_before_count = 0;       // movements between the start and its last count
  std::int64_t moved_after_count = 0;        // since its last count (since the start if none)
  std::optional<std::int64_t> posted_delta;  // what approving posted
  std::vector<CountMovement> movements;      // oldest first
  std::int64_t expected() const { return snapshot_on_hand + moved_before_count; }
  std::int64_t on_hand_now() const { return expected() + moved_after_count; }
  std::optional<std::int64_t> variance() const {
    if (!counted) return std::nullopt;
    return *counted - expected();
  }
};

struct CountSession {
  std::int64_t id = 0;
  CountSessionState state = CountSessionState::counting;
  CountPlan plan;
  std::string note;
  std::int64_t start_ledger_id = 0;
  std::optional<std::int64_t> end_ledger_id;  // once approved or cancelled
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t submitted_at = 0;
  std::string closed_by;
  std::int64_t closed_at = 0;
  std::string cancel_reason;
  std::vector<CountLine> lines;  // by bin, then SKU
  std::string name() const { return count_session_name(id); }
  std::size_t counted_lines() const;
  std::size_t open_lines() const;
};

// One session without its lines, for lists.
struct CountSessionSummary {
  std::int64_t id = 0;
  CountSessionState state = CountSessionState::counting;
  std::string note;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t closed_at = 0;
  std::int64_t lines = 0;
  std::int64_t counted_lines = 0;
  std::string name() const { return count_session_name(id); }
};

class CountSessions {
 public:
  CountSessions(Database& db, Outbox& outbox, Inventory& inventory)
      : db_(db), outbox_(outbox), inventory_(inventory) {}

  // Starts counting at once: the lines are the plan's SKUs, each on at most one open
  // session (two sessions posting one SKU's difference would post it twice).
  Result<CountSession> plan(const CountPlan& plan, const CommandContext& ctx);

  // Without lines: the session alone (its state, plan, who and when).
  std::optional<CountSession> find(std::int64_t id, bool with_lines = true);
  bool has_line(std::int64_t id, const std::string& sku);
  // Newest first; `open_only`: counting or in review.
  std::vector<CountSessionSummary> list(bool open_only, std::size_t limit);
  // What a scanned or typed code names: a barcode (any GTIN form) or a SKU.
  std::optional<std::string> sku_for_code(std::string_view code);

  // `quantity` units of the item `code` names (a barcode or a SKU) counted on its line.
  Result<CountLine> scan(std::int64_t id, std::string_view code, std::int64_t quantity,
                         const CommandContext& ctx);
  // The associate looked and found none: the line is counted, at zero so far.
  Result<CountLine> none_found(std::int64_t id, const std::string& sku, const CommandContext& ctx);
  // Counting is done: every line must have been counted (none found is a count).
  Result<CountSession> submit(std::int64_t id, const CommandContext& ctx);
  // The lines go back to counting, their counts cleared; the others keep theirs.
  Result<CountSession> recount(std::int64_t id, const std::vector<std::string>& skus,
                               const CommandContext& ctx);
  // Posts each line's variance to the current on hand, one transaction and one event.
  Result<CountSession> approve(std::int64_t id, const CommandContext& ctx);
  Result<CountSession> cancel(std::int64_t id, const std::string& reason,
                              const CommandContext& ctx);

 private:
  Result<CountSession> loaded(std::int64_t id, CountSessionAction action, bool with_lines = true);
  Result<CountLine> count_units(std::int64_t id, const std::string& sku, std::int64_t quantity,
                                const std::string& barcode, const CommandContext& ctx);
  void move_to(std::int64_t id, CountSessionState from, CountSessionAction action,
               const CommandContext& ctx);
  std::vector<CountLine> lines_of(std::int64_t id, std::int64_t start_ledger_id,
                                  std::optional<std::int64_t> end_ledger_id,
                                  const std::optional<std::string>& only_sku);

  Database& db_;
  Outbox& outbox_;
  Inventory& inventory_;
};

}  // namespace fulfil::agent
