#include "desk_sessions.hpp"

#include <boost/asio/post.hpp>

#include "config/clock.hpp"
#include "config/log.hpp"
#include "domain/terminals.hpp"

namespace fulfil::agent::api {
namespace asio = boost::asio;
using nlohmann::json;

namespace {
const std::string kTerminalPrefix = "terminal:";

// The terminal id of an actor string, or "" for any other actor.
std::string terminal_of(const std::string& actor) {
  return actor.rfind(kTerminalPrefix, 0) == 0 ? actor.substr(kTerminalPrefix.size()) : "";
}
}  // namespace

json session_ended_message(const StationSession& ended, const std::string& reason) {
  return {{"type", "station_session"},
          {"station", ended.station},
          {"session", nullptr},
          {"ended", {{"order_id", ended.order_id}, {"opened_by", ended.opened_by}}},
          {"reason", reason}};
}

DeskSessions::DeskSessions(asio::io_context& io, Store& store, std::chrono::milliseconds grace,
                           IsConnected is_connected, Notify notify)
    : io_(io),
      store_(store),
      grace_(grace),
      is_connected_(std::move(is_connected)),
      notify_(std::move(notify)) {}

void DeskSessions::start() {
  try {
    for (const auto& s : store_.stations().list())
      if (auto id = terminal_of(s.opened_by); !id.empty()) start_grace(id);
  } catch (const StorageFailure& e) {
    // The sessions stay until their terminal comes and goes again or closes them.
    log::warn("api", "cannot read the station sessions to await their terminals",
              {{"error", e.what()}});
  }
}

void DeskSessions::opened(const StationSession& session) {
  if (auto id = terminal_of(session.opened_by); !id.empty()) start_grace(id);
}

void DeskSessions::connected(const std::string& terminal_id) {
  departures_.erase(terminal_id);  // its timer is cancelled; a fired one sees the generation
}

void DeskSessions::left(const std::string& terminal_id) {
  start_grace(terminal_id);
}

void DeskSessions::revoked(const std::string& terminal_id) {
  departures_.erase(terminal_id);
  asio::post(io_, [self = weak_from_this(), terminal_id] {
    if (auto s = self.lock(); s && !s->stopped_)
      s->end_sessions(terminal_id, kSessionTerminalRevoked);
  });
}

std::optional<std::int64_t> DeskSessions::closes_at(const std::string& opened_by) const {
  auto it = departures_.find(terminal_of(opened_by));
  if (it == departures_.end()) return std::nullopt;
  return it->second->closes_at;
}

void DeskSessions::stop() {
  stopped_ = true;
  departures_.clear();
}

void DeskSessions::start_grace(const std::string& terminal_id) {
  if (stopped_ || departures_.contains(terminal_id) || is_connected_(terminal_id)) return;
  if (!has_sessions(terminal_id)) return;
  auto d = std::make_unique<Departure>(io_);
  d->closes_at = now_ms() + grace_.count();
  d->generation = ++generation_;
  d->timer.expires_after(grace_);
  d->timer.async_wait([self = weak_from_this(), terminal_id,
                       generation = d->generation](const boost::system::error_code& ec) {
    auto s = self.lock();
    if (ec || !s || s->stopped_) return;
    auto it = s->departures_.find(terminal_id);
    // Back in the meantime (and maybe gone again: then a newer departure is waiting).
    if (it == s->departures_.end() || it->second->generation != generation) return;
    s->departures_.erase(it);
    if (!s->is_connected_(terminal_id)) s->end_sessions(terminal_id, kSessionTerminalDisconnected);
  });
  departures_.emplace(terminal_id, std::move(d));
}

bool DeskSessions::has_sessions(const std::string& terminal_id) {
  try {
    for (const auto& s : store_.stations().list())
      if (terminal_of(s.opened_by) == terminal_id) return true;
    return false;
  } catch (const StorageFailure&) {
    return true;  // the end will find out, and try again
  }
}

// One transaction: the sessions end, the terminal's claims on their orders are released,
// one audit row each. Pushed after the commit. A database that cannot take the write now
// is tried again one grace later.
void DeskSessions::end_sessions(const std::string& terminal_id, const std::string& reason) {
  const std::string opener = kTerminalPrefix + terminal_id;
  const std::int64_t now = now_ms();
  std::vector<StationSession> ended;
  std::vector<std::string> released;
  // A full disk keeps its released space for what is in flight; this can wait.
  if (store_.db().disk_full()) {
    log::warn("api", "the disk is full: an absent terminal's station sessions end later",
              {{"terminal", terminal_id}});
    return start_grace(terminal_id);
  }
  try {
    const auto terminal = store_.terminals().find(terminal_id);
    const Role role = terminal ? terminal->role : Role::associate;
    Transaction tx(store_.db());
    ended = store_.stations().close_opened_by(opener);
    for (const auto& s : ended) {
      auto& claims = store_.orders().claims();
      const auto claim = claims.of(s.order_id);
      const bool release = claim && claim->holder == opener && claims.release(s.order_id);
      if (release) released.push_back(s.order_id);
      store_.terminals().audit("system:desk-sessions", role,
                               "END station " + s.station + " session on " + s.order_id + " of " +
                                   opener + (release ? ", claim released" : ""),
                               200, reason, now);
    }
    tx.commit();
  } catch (const StorageFailure& e) {
    log::warn("api", "cannot end an absent terminal's station sessions; trying again",
              {{"terminal", terminal_id}, {"error", e.what()}});
    start_grace(terminal_id);
    return;
  }
  for (const auto& s : ended) {
    log::info("api", "station session ended",
              {{"station", s.station},
               {"order", s.order_id},
               {"terminal", terminal_id},
               {"reason", reason}});
    notify_(session_ended_message(s, reason));
  }
  for (const auto& order_id : released)
    notify_({{"type", "claim"}, {"order_id", order_id}, {"claim", nullptr}});
}

}  // namespace fulfil::agent::api
