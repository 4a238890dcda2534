#include "domain/count_sessions.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "count_posting.hpp"
#include "domain/transaction.hpp"
#include "search_text.hpp"
#include "state_names.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::string_view kCountSessionPrefix = "CS-";
constexpr std::size_t kMaxCountPlanBins = 50;
constexpr std::int64_t kMaxCountedUnits = 1'000'000;
constexpr std::size_t kMaxCountMovementsShown = 50;  // per line; the sums cover them all

constexpr std::array<std::string_view, 4> kCountStateNames = {"counting", "review", "approved",
                                                              "cancelled"};
constexpr std::array<std::string_view, 6> kCountActionNames = {"plan",    "scan",    "submit",
                                                               "recount", "approve", "cancel"};
static_assert(kCountStateNames.size() ==
              static_cast<std::size_t>(CountSessionState::cancelled) + 1);
static_assert(kCountActionNames.size() == static_cast<std::size_t>(CountSessionAction::cancel) + 1);

constexpr std::optional<CountSessionState> kNoCountSession;

// clang-format off
constexpr std::array kCountTransitions = std::to_array<CountSessionTransition>({
  // from         action        to
  {kNoCountSession,         CountSessionAction::plan,      CountSessionState::counting},   // planning starts the count
  {CountSessionState::counting,   CountSessionAction::scan,      CountSessionState::counting},   // a scan, or "none found"
  {CountSessionState::counting,   CountSessionAction::submit,    CountSessionState::review},     // every line counted
  {CountSessionState::counting,   CountSessionAction::cancel,    CountSessionState::cancelled},
  {CountSessionState::review,     CountSessionAction::recount,   CountSessionState::counting},   // the lines sent back take scans again
  {CountSessionState::review,     CountSessionAction::approve,   CountSessionState::approved},   // the differences post to the ledger
  {CountSessionState::review,     CountSessionAction::cancel,    CountSessionState::cancelled},
});
// clang-format on

constexpr bool count_session_leaves(CountSessionState state) {
  for (const auto& t : kCountTransitions)
    if (t.from == state) return true;
  return false;
}
static_assert(!count_session_leaves(CountSessionState::approved) &&
              !count_session_leaves(CountSessionState::cancelled) &&
              count_session_leaves(CountSessionState::counting));

// Why an action is refused in a state, in words for the person who tried it.
std::string count_refusal(const CountSession& s, CountSessionAction action) {
  const std::string name = "count session " + s.name();
  if (is_closed(s.state))
    return name + " is " + std::string(count_session_state_name(s.state)) +
           ": nothing more can be done with it";
  if (s.state == CountSessionState::review && action == CountSessionAction::scan)
    return name +
           " is in review: counting is closed (a manager can send lines back for "
           "recounting)";
  if (s.state == CountSessionState::counting &&
      (action == CountSessionAction::approve || action == CountSessionAction::recount))
    return name + " is still being counted: submit it for review first";
  return name + " is " + std::string(count_session_state_name(s.state)) + ": cannot " +
         std::string(count_session_action_name(action)) + " it";
}

std::int64_t count_ledger_position(Database& db) {
  auto s = db.prepare("SELECT coalesce(max(id), 0) FROM ledger");
  s.step();
  return s.int64(0);
}

std::vector<std::string> count_plan_strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.is_object() && j.contains(key) && j[key].is_array())
    for (const auto& v : j[key])
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

Result<void> check_count_plan(const CountPlan& plan) {
  if (plan.bins.empty() && plan.skus.empty())
    return fail(DomainErrc::invalid_argument, "a count needs bins or SKUs to count");
  if (plan.bins.size() > kMaxCountPlanBins)
    return fail(DomainErrc::invalid_argument,
                "a count takes at most " + std::to_string(kMaxCountPlanBins) + " bins");
  if (plan.skus.size() > kMaxCountSessionLines)
    return fail(DomainErrc::invalid_argument,
                "a count takes at most " + std::to_string(kMaxCountSessionLines) + " SKUs");
  for (const auto& bin : plan.bins)
    if (auto ok = check_text("bins", bin, 40, true); !ok) return ok;
  for (const auto& sku : plan.skus)
    if (auto ok = check_text("skus", sku, 64, true); !ok) return ok;
  return check_text("note", plan.note, 200, false);
}

}  // namespace

std::string_view count_session_state_name(CountSessionState s) {
  return name_in(kCountStateNames, s);
}

std::optional<CountSessionState> count_session_state_from(std::string_view name) {
  return value_in<CountSessionState>(kCountStateNames, name);
}

std::string_view count_session_action_name(CountSessionAction a) {
  return name_in(kCountActionNames, a);
}

std::span<const CountSessionTransition> count_session_transitions() {
  return kCountTransitions;
}

const CountSessionTransition* find_count_session_transition(std::optional<CountSessionState> from,
                                                            CountSessionAction action) {
  for (const auto& t : kCountTransitions)
    if (t.from == from && t.action == action) return &t;
  return nullptr;
}

bool is_closed(CountSessionState s) {
  return !count_session_leaves(s);
}

std::string count_session_name(std::int64_t id) {
  return std::string(kCountSessionPrefix) + std::to_string(id);
}

std::optional<std::int64_t> count_session_id_from(std::string_view name) {
  if (name.substr(0, kCountSessionPrefix.size()) == kCountSessionPrefix)
    name.remove_prefix(kCountSessionPrefix.size());
  std::int64_t id = 0;
  const auto* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data(), end, id);
  if (name.empty() || ec != std::errc() || p != end || id <= 0) return std::nullopt;
  return id;
}

std::size_t CountSession::counted_lines() const {
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [](const CountLine& l) { return l.counted; }));
}

std::size_t CountSession::open_lines() const {
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [](const CountLine& l) { return l.open; }));
}

Result<CountSession> CountSessions::plan(const CountPlan& plan, const CommandContext& ctx) {
  if (auto ok = check_count_plan(plan); !ok) return unexpected(ok.error());
  return commit_or_rollback(db_, [&]() -> Result<CountSession> {
    std::vector<std::string> skus;
    std::set<std::string> seen;
    auto add = [&](const std::string& sku) {
      if (seen.insert(sku).second) skus.push_back(sku);
    };
    for (const auto& sku : plan.skus) {
      if (!inventory_.level(sku)) return fail(DomainErrc::unknown_sku, "unknown SKU " + sku);
      add(sku);
    }
    for (const auto& bin : plan.bins) {
      auto s = db_.prepare("SELECT sku FROM sku WHERE bin LIKE ? ESCAPE '\\' ORDER BY bin, sku");
      s.bind(1, search_text::like_prefix(bin));
      std::size_t found = 0;
      while (s.step()) {
        add(s.text(0));
        ++found;
      }
      if (found == 0)
        return fail(DomainErrc::invalid_argument, "no SKU is in a bin starting with '" + bin + "'");
    }
    if (skus.size() > kMaxCountSessionLines)
      return fail(DomainErrc::invalid_argument, "the plan names " + std::to_string(skus.size()) +
                                                    " SKUs; a count takes at most " +
                                                    std::to_string(kMaxCountSessionLines) +
                                                    ": count fewer bins at a time");
    for (const auto& sku : skus) {
      auto busy = db_.prepare(
          "SELECT l.session_id FROM count_session_line l JOIN count_session s ON s.id = "
          "l.session_id WHERE l.sku = ? AND s.state IN ('counting', 'review')");
      busy.bind(1, sku);
      if (busy.step())
        return fail(DomainErrc::duplicate, "SKU " + sku + " is already being counted in " +
                                               count_session_name(busy.int64(0)));
    }
    const nlohmann::json asked = {{"bins", plan.bins}, {"skus", plan.skus}};
    db_.prepare(
           "INSERT INTO count_session (state, plan, note, start_ledger_id, created_by, "
           "created_at) VALUES ('counting', ?, ?, ?, ?, ?)")
        .bind(1, asked.dump())
        .bind(2, plan.note)
        .bind(3, count_ledger_position(db_))
        .bind(4, ctx.actor.str())
        .bind(5, ctx.now_ms)
        .run();
    const std::int64_t id = db_.last_insert_rowid();
    for (const auto& sku : skus) {
      const auto level = inventory_.level(sku);
      db_.prepare(
             "INSERT INTO count_session_line (session_id, sku, bin, snapshot_on_hand) "
             "VALUES (?, ?, ?, ?)")
          .bind(1, id)
          .bind(2, sku)
          .bind(3, level->bin)
          .bind(4, level->on_hand)
          .run();
    }
    return std::move(*find(id));
  });
}

std::vector<CountLine> CountSessions::lines_of(std::int64_t id, std::int64_t start_ledger_id,
                                               std::optional<std::int64_t> end_ledger_id,
                                               const std::optional<std::string>& only_sku) {
  std::vector<CountLine> lines;
  std::vector<std::optional<std::int64_t>> counted_at_ledger;
  std::map<std::string, std::size_t> by_sku;
  auto s = db_.prepare(
      "SELECT l.sku, k.title, l.bin, l.counted, l.counted_by, l.counted_at, l.open, l.round, "
      "l.snapshot_on_hand, l.counted_ledger_id, l.posted_delta FROM count_session_line l "
      "JOIN sku k ON k.sku = l.sku WHERE l.session_id = ?1 AND (?2 IS NULL OR l.sku = ?2) "
      "ORDER BY l.bin, l.sku");
  s.bind(1, id).bind_optional(2, only_sku);
  while (s.step()) {
    CountLine l;
    l.sku = s.text(0);
    l.title = s.text(1);
    l.bin = s.text(2);
    if (!s.is_null(3)) l.counted = s.int64(3);
    l.counted_by = s.is_null(4) ? "" : s.text(4);
    l.counted_at = s.is_null(5) ? 0 : s.int64(5);
    l.open = s.int64(6) != 0;
    l.round = static_cast<int>(s.int64(7));
    l.snapshot_on_hand = s.int64(8);
    counted_at_ledger.push_back(s.is_null(9) ? std::nullopt : std::optional(s.int64(9)));
    if (!s.is_null(10)) l.posted_delta = s.int64(10);
    by_sku[l.sku] = lines.size();
    lines.push_back(std::move(l));
  }
  // Each line's movements while the session was open (up to its end, so the count it
  // posted is not among them), before and after the line's last count: one query for all.
  auto m = db_.prepare(
      "SELECT g.sku, g.id, g.kind, g.delta, g.reason, g.actor, g.at FROM count_session_line l "
      "JOIN ledger g ON g.sku = l.sku WHERE l.session_id = ?1 AND (?2 IS NULL OR l.sku = ?2) "
      "AND g.bucket = 'on_hand' AND g.id > ?3 AND (?4 IS NULL OR g.id <= ?4) "
      "ORDER BY g.sku, g.id");
  m.bind(1, id).bind_optional(2, only_sku).bind(3, start_ledger_id);
  if (end_ledger_id)
    m.bind(4, *end_ledger_id);
  else
    m.bind_null(4);
  while (m.step()) {
    const auto at = by_sku.find(m.text(0));
    if (at == by_sku.end()) continue;  // not reached: the join names only the session's SKUs
    auto& l = lines[at->second];
    const auto& counted_at = counted_at_ledger[at->second];
    const bool after = !counted_at || m.int64(1) > *counted_at;
    (after ? l.moved_after_count : l.moved_before_count) += m.int64(3);
    l.movements.push_back(
        {m.int64(1), m.text(2), m.int64(3), m.text(4), m.text(5), m.int64(6), after});
  }
  for (auto& l : lines)
    if (l.movements.size() > kMaxCountMovementsShown)
      l.movements.erase(l.movements.begin(),
                        l.movements.end() - static_cast<std::ptrdiff_t>(kMaxCountMovementsShown));
  return lines;
}

std::optional<CountSession> CountSessions::find(std::int64_t id, bool with_lines) {
  auto s = db_.prepare(
      "SELECT state, plan, note, start_ledger_id, end_ledger_id, created_by, created_at, "
      "submitted_at, closed_by, closed_at, cancel_reason FROM count_session WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  CountSession out;
  out.id = id;
  out.state = count_session_state_from(s.text(0)).value_or(CountSessionState::cancelled);
  const auto asked = nlohmann::json::parse(s.text(1), nullptr, false);
  out.plan = {count_plan_strings(asked, "bins"), count_plan_strings(asked, "skus"), s.text(2)};
  out.note = s.text(2);
  out.start_ledger_id = s.int64(3);
  const auto end = s.is_null(4) ? std::nullopt : std::optional(s.int64(4));
  out.created_by = s.text(5);
  out.created_at = s.int64(6);
  out.submitted_at = s.is_null(7) ? 0 : s.int64(7);
  out.closed_by = s.is_null(8) ? "" : s.text(8);
  out.closed_at = s.is_null(9) ? 0 : s.int64(9);
  out.cancel_reason = s.text(10);
  out.end_ledger_id = end;
  if (with_lines) out.lines = lines_of(id, out.start_ledger_id, end, std::nullopt);
  return out;
}

std::vector<CountSessionSummary> CountSessions::list(bool open_only, std::size_t limit) {
  auto s = db_.prepare(
      "SELECT s.id, s.state, s.note, s.created_by, s.created_at, s.closed_at, "
      "(SELECT count(*) FROM count_session_line l WHERE l.session_id = s.id), "
      "(SELECT count(*) FROM count_session_line l WHERE l.session_id = s.id AND l.counted IS "
      "NOT NULL) FROM count_session s WHERE (?1 = 0 OR s.state IN ('counting', 'review')) "
      "ORDER BY s.id DESC LIMIT ?2");
  s.bind(1, open_only ? 1 : 0).bind(2, static_cast<std::int64_t>(limit));
  std::vector<CountSessionSummary> out;
  while (s.step())
    out.push_back(
        {s.int64(0), count_session_state_from(s.text(1)).value_or(CountSessionState::cancelled),
         s.text(2), s.text(3), s.int64(4), s.is_null(5) ? 0 : s.int64(5), s.int64(6), s.int64(7)});
  return out;
}

bool CountSessions::has_line(std::int64_t id, const std::string& sku) {
  auto s = db_.prepare("SELECT 1 FROM count_session_line WHERE session_id = ? AND sku = ?");
  s.bind(1, id).bind(2, sku);
  return s.step();
}

std::optional<std::string> CountSessions::sku_for_code(std::string_view code) {
  if (auto sku = inventory_.sku_for_barcode(code)) return sku;
  const std::string typed(search_text::trimmed(code));
  if (!typed.empty() && inventory_.level(typed)) return typed;
  return std::nullopt;
}

Result<CountSession> CountSessions::loaded(std::int64_t id, CountSessionAction action,
                                           bool with_lines) {
  auto session = find(id, with_lines);
  if (!session) return fail(DomainErrc::not_found, "no count session " + count_session_name(id));
  if (!find_count_session_transition(session->state, action))
    return fail(DomainErrc::illegal_transition, count_refusal(*session, action));
  return std::move(*session);
}

void CountSessions::move_to(std::int64_t id, CountSessionState from, CountSessionAction action,
                            const CommandContext& ctx) {
  const auto* step = find_count_session_transition(from, action);
  const bool closes = is_closed(step->to);
  db_.prepare(
         "UPDATE count_session SET state = ?1, "
         "submitted_at = CASE WHEN ?1 = 'review' THEN ?2 ELSE submitted_at END, "
         "closed_by = CASE WHEN ?3 THEN ?4 ELSE closed_by END, "
         "closed_at = CASE WHEN ?3 THEN ?2 ELSE closed_at END, "
         "end_ledger_id = CASE WHEN ?3 THEN ?5 ELSE end_ledger_id END "
         "WHERE id = ?6 AND state = ?7")
      .bind(1, count_session_state_name(step->to))
      .bind(2, ctx.now_ms)
      .bind(3, closes ? 1 : 0)
      .bind(4, ctx.actor.str())
      .bind(5, count_ledger_position(db_))
      .bind(6, id)
      .bind(7, count_session_state_name(from))
      .run();
}

Result<CountLine> CountSessions::count_units(std::int64_t id, const std::string& sku,
                                             std::int64_t quantity, const std::string& barcode,
                                             const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<CountLine> {
    // One line of the session is all a scan needs (a session may have thousands).
    auto session = loaded(id, CountSessionAction::scan, false);
    if (!session) return unexpected(session.error());
    auto lines = lines_of(id, session->start_ledger_id, std::nullopt, sku);
    if (lines.empty()) {
      const auto level = inventory_.level(sku);
      return fail(DomainErrc::invalid_argument,
                  "SKU " + sku + " is not on count " + session->name() +
                      (level && !level->bin.empty() ? " (its bin is " + level->bin + ")" : "") +
                      ": it is not counted here");
    }
    const auto* line = &lines.front();
    if (!line->open)
      return fail(DomainErrc::illegal_transition,
                  "SKU " + sku + " is already counted in " + session->name() +
                      ": only the lines sent back for recounting take scans now");
    const std::int64_t so_far = line->counted.value_or(0);
    if (quantity == 0 && so_far > 0)
      return fail(DomainErrc::invalid_argument,
                  "SKU " + sku + " already has units counted in " + session->name() +
                      ": none found would contradict them (a manager can send it back for a "
                      "recount)");
    if (so_far + quantity > kMaxCountedUnits)
      return fail(DomainErrc::invalid_argument, "SKU " + sku + " would have more than " +
                                                    std::to_string(kMaxCountedUnits) +
                                                    " units counted");
    db_.prepare(
           "UPDATE count_session_line SET counted = ?1, counted_ledger_id = ?2, counted_by = ?3, "
           "counted_at = ?4 WHERE session_id = ?5 AND sku = ?6 AND open = 1")
        .bind(1, so_far + quantity)
        .bind(2, count_ledger_position(db_))
        .bind(3, ctx.actor.str())
        .bind(4, ctx.now_ms)
        .bind(5, id)
        .bind(6, sku)
        .run();
    db_.prepare(
           "INSERT INTO count_scan (session_id, sku, round, quantity, barcode, actor, at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, id)
        .bind(2, sku)
        .bind(3, line->round)
        .bind(4, quantity)
        .bind(5, barcode)
        .bind(6, ctx.actor.str())
        .bind(7, ctx.now_ms)
        .run();
    return std::move(lines_of(id, session->start_ledger_id, std::nullopt, sku).front());
  });
}

Result<CountLine> CountSessions::scan(std::int64_t id, std::string_view code, std::int64_t quantity,
                                      const CommandContext& ctx) {
  if (quantity < 1 || quantity > kMaxCountScanQuantity)
    return fail(DomainErrc::invalid_argument, "quantity must be 1 to " +
                                                  std::to_string(kMaxCountScanQuantity) + ", got " +
                                                  std::to_string(quantity));
  if (auto ok = check_text("barcode", code, 100, true); !ok) return unexpected(ok.error());
  auto sku = sku_for_code(code);
  if (!sku)
    return fail(DomainErrc::unknown_sku,
                "barcode '" + std::string(code) + "' is not in this store's catalog");
  return count_units(id, *sku, quantity, std::string(search_text::trimmed(code)), ctx);
}

Result<CountLine> CountSessions::none_found(std::int64_t id, const std::string& sku,
                                            const CommandContext& ctx) {
  if (auto ok = check_text("sku", sku, 64, true); !ok) return unexpected(ok.error());
  if (!inventory_.level(sku)) return fail(DomainErrc::unknown_sku, "unknown SKU " + sku);
  return count_units(id, sku, 0, "", ctx);
}

Result<CountSession> CountSessions::submit(std::int64_t id, const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<CountSession> {
    auto session = loaded(id, CountSessionAction::submit);
    if (!session) return unexpected(session.error());
    std::string missing;
    std::size_t n = 0;
    for (const auto& l : session->lines)
      if (!l.counted && n++ < 5)
        missing +=
            (missing.empty() ? "" : ", ") + l.sku + (l.bin.empty() ? "" : " (" + l.bin + ")");
    if (n > 0)
      return fail(DomainErrc::invalid_argument,
                  std::to_string(n) + " line" + (n == 1 ? " is" : "s are") + " not counted yet: " +
                      missing + (n > 5 ? ", ..." : "") + ": scan them, or report none found");
    db_.prepare("UPDATE count_session_line SET open = 0 WHERE session_id = ?").bind(1, id).run();
    move_to(id, session->state, CountSessionAction::submit, ctx);
    return std::move(*find(id));
  });
}

Result<CountSession> CountSessions::recount(std::int64_t id, const std::vector<std::string>& skus,
                                            const CommandContext& ctx) {
  if (skus.empty())
    return fail(DomainErrc::invalid_argument, "name at least one SKU to count again");
  if (skus.size() > kMaxCountSessionLines)
    return fail(DomainErrc::invalid_argument, "too many SKUs to count again");
  return commit_or_rollback(db_, [&]() -> Result<CountSession> {
    auto session = loaded(id, CountSessionAction::recount);
    if (!session) return unexpected(session.error());
    std::set<std::string> on_session;
    for (const auto& l : session->lines) on_session.insert(l.sku);
    for (const auto& sku : skus) {
      if (!on_session.count(sku))
        return fail(DomainErrc::invalid_argument,
                    "SKU " + sku + " is not on count " + session->name());
      db_.prepare(
             "UPDATE count_session_line SET counted = NULL, counted_ledger_id = NULL, "
             "counted_by = NULL, counted_at = NULL, open = 1, round = round + 1 "
             "WHERE session_id = ? AND sku = ? AND open = 0")
          .bind(1, id)
          .bind(2, sku)
          .run();
    }
    move_to(id, session->state, CountSessionAction::recount, ctx);
    return std::move(*find(id));
  });
}

Result<CountSession> CountSessions::approve(std::int64_t id, const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<CountSession> {
    auto session = loaded(id, CountSessionAction::approve);
    if (!session) return unexpected(session.error());
    // The end of the session's window comes before its own postings.
    move_to(id, session->state, CountSessionAction::approve, ctx);
    StockLedger ledger(db_);
    std::vector<CountDifference> diffs;
    for (const auto& l : session->lines) {
      const auto now = ledger.level(l.sku);
      // The variance lands on today's figure, so what moved after the count is kept. More
      // missing than is now recorded (units counted, then sold) stops at zero.
      const std::int64_t on_hand = std::max<std::int64_t>(now->on_hand + *l.variance(), 0);
      diffs.push_back(
          {l.sku, on_hand - now->on_hand, std::min(now->unsellable, on_hand) - now->unsellable});
      db_.prepare("UPDATE count_session_line SET posted_delta = ? WHERE session_id = ? AND sku = ?")
          .bind(1, diffs.back().on_hand_delta)
          .bind(2, id)
          .bind(3, l.sku)
          .run();
    }
    const std::string reason =
        "count session " + session->name() + (session->note.empty() ? "" : ": " + session->note);
    if (auto ok = post_count_differences(db_, outbox_, diffs, reason,
                                         {{"count_session", session->name()}}, ctx);
        !ok)
      return unexpected(ok.error());
    return std::move(*find(id));
  });
}

Result<CountSession> CountSessions::cancel(std::int64_t id, const std::string& reason,
                                           const CommandContext& ctx) {
  if (auto ok = check_text("reason", reason, 200, false); !ok) return unexpected(ok.error());
  return commit_or_rollback(db_, [&]() -> Result<CountSession> {
    auto session = loaded(id, CountSessionAction::cancel);
    if (!session) return unexpected(session.error());
    move_to(id, session->state, CountSessionAction::cancel, ctx);
    db_.prepare("UPDATE count_session SET cancel_reason = ? WHERE id = ?")
        .bind(1, reason)
        .bind(2, id)
        .run();
    return std::move(*find(id));
  });
}

}  // namespace fulfil::agent
