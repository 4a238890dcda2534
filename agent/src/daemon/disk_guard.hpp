#pragma once
// Keeps fulfild up when the disk holding its database fills.
//
// A full disk used to abort the daemon from whichever handler first failed to write, and
// systemd restarted it into the same full disk. Now a failed write only marks the
// database (Database::disk_full) and the guard takes over:
//  * it releases the reserve, a file of storage.reserve_mb made at start, so what is in
//    flight (a label being printed, events the cloud acknowledged) can still be recorded;
//  * while the mark stays, the terminal API refuses changes with 503 `storage` and a
//    message that says what to do, reads are served, /health says `failing`, and the
//    cloud link leaves the feed alone;
//  * every few seconds it looks at the free space; once there is room for the reserve and
//    as much again, it takes the reserve back, clears the mark and says so.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace fulfil::agent {

class DiskGuard {
 public:
  // Before the database is opened: on a disk with (next to) nothing free, SQLite cannot
  // even make its write-ahead log and index, and fulfild would exit and be restarted into
  // the same full disk. The reserve a previous run left is released so the database opens;
  // true when that happened (the guard then starts full).
  static bool make_room_to_start(const std::string& state_dir);

  DiskGuard(boost::asio::io_context& io, Database& db, std::string state_dir,
            std::int64_t reserve_bytes, std::function<void(bool full)> changed);
  void start();
  void stop();
  bool full() const { return full_; }
  // {"disk_full", "free_bytes", "reserve_bytes", "alarms": [...], "failing"}
  nlohmann::json health() const;

 private:
  boost::asio::io_context& io_;
  Database& db_;
  std::string state_dir_;
  std::string reserve_path_;
  std::int64_t reserve_bytes_;
  std::function<void(bool)> changed_;
  boost::asio::steady_timer timer_;
  bool full_ = false;
  bool reserve_made_ = false;
  bool stopped_ = false;

  void filled();
  void look_for_room();
  bool make_reserve();
  std::int64_t free_bytes() const;
};

// Free bytes for an unprivileged user on the file system holding `dir` (-1: unknown).
std::int64_t free_disk_bytes(const std::string& dir);

}  // namespace fulfil::agent
