#pragma once
// Internal to agent/: how long a station (pack desk) session lives. A session a terminal
// opened belongs to that terminal and lives while the terminal is connected, that is while
// it holds a WebSocket on /api/v1/events. When its last one closes (the browser was closed
// or crashed, the tablet dropped off the network) and the terminal has not come back within
// `api.desk_session_grace_s`, its sessions end: the desk's scanner stops picking into an
// order nobody is at, and the terminal's claim on that order is released so another
// associate can finish it. A reload or a Wi-Fi blip within the grace changes nothing.
//
// Each end is committed with an audit row (actor system:desk-sessions, the reason as its
// detail) and pushed to the terminals like a close by a terminal. Revoking a terminal ends
// its sessions at once. After fulfild starts, every terminal with a session is awaited as
// if it had just left: a restart is invisible to a terminal that reconnects, and a session
// whose terminal never does ends one grace after the start. Sessions opened by anything
// but a terminal (fulfilctl on the Unix socket) are left alone.
//
// Everything runs on the API's io_context; the grace is one steady_timer per absent
// terminal. Timer handlers hold only a weak reference: destroying a DeskSessions with
// timers pending is safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "domain/stations.hpp"
#include "domain/store.hpp"

namespace fulfil::agent::api {

// Why a session ended, as pushed in `station_session` messages and written in the audit.
inline constexpr const char* kSessionClosed = "closed";      // by a terminal or fulfilctl
inline constexpr const char* kSessionReplaced = "replaced";  // another session opened there
inline constexpr const char* kSessionPickingEnded = "picking_ended";
inline constexpr const char* kSessionTerminalDisconnected = "terminal_disconnected";
inline constexpr const char* kSessionTerminalRevoked = "terminal_revoked";

// The WebSocket message for a session that ended: {"type":"station_session","station",
// "session":null,"ended":{"order_id","opened_by"},"reason"}.
nlohmann::json session_ended_message(const StationSession& ended, const std::string& reason);

class DeskSessions : public std::enable_shared_from_this<DeskSessions> {
 public:
  using IsConnected = std::function<bool(const std::string& terminal_id)>;
  using Notify = std::function<void(const nlohmann::json& message)>;

  DeskSessions(boost::asio::io_context& io, Store& store, std::chrono::milliseconds grace,
               IsConnected is_connected, Notify notify);
  // At start: every terminal that has a session is awaited for one grace.
  void start();
  // A terminal opened a session (inside the request's transaction): awaited at once when
  // it is not connected (a REST client with no WebSocket, a page whose WebSocket is down).
  void opened(const StationSession& session);
  // A WebSocket of the terminal was accepted: it is back, its sessions stay.
  void connected(const std::string& terminal_id);
  // A WebSocket of the terminal ended; the grace starts if it was its last.
  void left(const std::string& terminal_id);
  // The terminal was revoked (inside the revoking transaction): its sessions end as soon
  // as that has committed.
  void revoked(const std::string& terminal_id);
  // When the session `opened_by` opened ends unless its terminal comes back (Unix ms).
  std::optional<std::int64_t> closes_at(const std::string& opened_by) const;
  void stop();

 private:
  struct Departure {
    explicit Departure(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::int64_t closes_at = 0;
    std::uint64_t generation = 0;
  };

  void start_grace(const std::string& terminal_id);
  bool has_sessions(const std::string& terminal_id);
  void end_sessions(const std::string& terminal_id, const std::string& reason);

  boost::asio::io_context& io_;
  Store& store_;
  std::chrono::milliseconds grace_;
  IsConnected is_connected_;
  Notify notify_;
  std::map<std::string, std::unique_ptr<Departure>> departures_;  // by terminal id
  std::uint64_t generation_ = 0;
  bool stopped_ = false;
};

}  // namespace fulfil::agent::api
