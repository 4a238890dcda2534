#pragma once
// Stations are the store's pack desks. Each has at most one active session: the order its
// associate is picking. The desk's hardware scanners feed that order, so the session is
// kept in the database and survives a restart of fulfild as it would survive a reload of
// the terminal's page. How long a terminal's session outlives the terminal itself is the
// API's business (api/desk_sessions.hpp): here a session is a row.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct StationSession {
  std::string station;
  std::string order_id;
  std::string opened_by;  // the actor, e.g. "terminal:T-1a2b3c4d"
  std::int64_t opened_at = 0;
};

class StationSessions {
 public:
  explicit StationSessions(Database& db) : db_(db) {}
  // Makes `order_id` the station's active session (replacing any other). The caller checks
  // that the order can be picked; the order must exist.
  Result<StationSession> open(const std::string& station, const std::string& order_id,
                              const CommandContext& ctx);
  // Ends the station's session; ending none is not an error (the terminal may retry).
  void close(const std::string& station);
  // Ends every session `opened_by` (an actor, "terminal:T-…") opened and returns them; a
  // session another actor has opened since is not theirs and stays.
  std::vector<StationSession> close_opened_by(const std::string& opened_by);
  std::optional<StationSession> active(const std::string& station);
  std::vector<StationSession> list();

 private:
  Database& db_;
};

}  // namespace fulfil::agent
