#include "domain/stations.hpp"

namespace fulfil::agent {

namespace {
StationSession read_session(Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.int64(3)};
}
}  // namespace

Result<StationSession> StationSessions::open(const std::string& station,
                                             const std::string& order_id,
                                             const CommandContext& ctx) {
  auto exists = db_.prepare("SELECT 1 FROM fulfilment_order WHERE id = ?");
  exists.bind(1, order_id);
  if (!exists.step()) return fail(DomainErrc::not_found, "no fulfilment order " + order_id);
  StationSession session{station, order_id, ctx.actor.str(), ctx.now_ms};
  db_.prepare(
         "INSERT INTO station_session (station, order_id, opened_by, opened_at) "
         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (station) DO UPDATE SET order_id = ?2, "
         "opened_by = ?3, opened_at = ?4")
      .bind(1, station)
      .bind(2, order_id)
      .bind(3, session.opened_by)
      .bind(4, ctx.now_ms)
      .run();
  return session;
}

void StationSessions::close(const std::string& station) {
  db_.prepare("DELETE FROM station_session WHERE station = ?").bind(1, station).run();
}

std::vector<StationSession> StationSessions::close_opened_by(const std::string& opened_by) {
  auto s = db_.prepare(
      "DELETE FROM station_session WHERE opened_by = ? "
      "RETURNING station, order_id, opened_by, opened_at");
  s.bind(1, opened_by);
  std::vector<StationSession> out;
  while (s.step()) out.push_back(read_session(s));
  return out;
}

std::optional<StationSession> StationSessions::active(const std::string& station) {
  auto s = db_.prepare(
      "SELECT station, order_id, opened_by, opened_at FROM station_session WHERE station = ?");
  s.bind(1, station);
  if (!s.step()) return std::nullopt;
  return read_session(s);
}

std::vector<StationSession> StationSessions::list() {
  auto s = db_.prepare(
      "SELECT station, order_id, opened_by, opened_at FROM station_session ORDER BY station");
  std::vector<StationSession> out;
  while (s.step()) out.push_back(read_session(s));
  return out;
}

}  // namespace fulfil::agent
