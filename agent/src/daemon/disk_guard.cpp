#include "disk_guard.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "config/log.hpp"

namespace fulfil::agent {
namespace {

constexpr auto kLookEvery = std::chrono::seconds(2);
constexpr std::int64_t kMiB = 1024 * 1024;

// What opening the database and its write-ahead log needs at least.
constexpr std::int64_t kRoomToStart = kMiB;

std::string reserve_path_in(const std::string& state_dir) {
  return state_dir + "/fulfild.reserve";
}

}  // namespace

std::int64_t free_disk_bytes(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return -1;
  return static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
}

bool DiskGuard::make_room_to_start(const std::string& state_dir) {
  const auto free = free_disk_bytes(state_dir);
  if (free < 0 || free >= kRoomToStart) return false;
  if (::unlink(reserve_path_in(state_dir).c_str()) != 0) return false;
  log::error("storage", "the disk is full: the reserve is released so fulfild can start",
             {{"state_dir", state_dir}, {"free_mb_before", free / kMiB}});
  return true;
}

DiskGuard::DiskGuard(boost::asio::io_context& io, Database& db, std::string state_dir,
                     std::int64_t reserve_bytes, std::function<void(bool)> changed)
    : io_(io),
      db_(db),
      state_dir_(std::move(state_dir)),
      reserve_path_(reserve_path_in(state_dir_)),
      reserve_bytes_(reserve_bytes),
      changed_(std::move(changed)),
      timer_(io) {}

void DiskGuard::start() {
  // The mark is set while a failure is being thrown, deep inside some handler: the guard
  // acts once that handler is done.
  db_.on_disk_full([this] {
    boost::asio::post(io_, [this] {
      if (!stopped_) filled();
    });
  });
  // Full already (a write failed during start-up, or the reserve was released to start):
  // the guard waits for room before it takes the reserve back.
  if (db_.disk_full()) return filled();
  if (reserve_bytes_ > 0 && !make_reserve())
    log::warn("storage", "cannot keep disk space in reserve; carrying on without it",
              {{"path", reserve_path_},
               {"reserve_mb", reserve_bytes_ / kMiB},
               {"free_mb", free_bytes() / kMiB}});
}

void DiskGuard::stop() {
  stopped_ = true;
  db_.on_disk_full(nullptr);
  timer_.cancel();
}

void DiskGuard::filled() {
  if (full_) return;
  full_ = true;
  bool released = false;
  if (reserve_made_) {
    released = ::unlink(reserve_path_.c_str()) == 0;
    reserve_made_ = false;
  }
  log::error("storage", "the disk is full: changes are refused until there is room; reads go on",
             {{"state_dir", state_dir_},
              {"free_mb", free_bytes() / kMiB},
              {"reserve_released_mb", released ? reserve_bytes_ / kMiB : 0}});
  if (changed_) changed_(true);
  look_for_room();
}

void DiskGuard::look_for_room() {
  timer_.expires_after(kLookEvery);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    // Room for the reserve and as much again: taking the reserve back must not fill the
    // disk at once.
    if (free_bytes() < 2 * reserve_bytes_ + kMiB || (reserve_bytes_ > 0 && !make_reserve()))
      return look_for_room();
    full_ = false;
    db_.clear_disk_full();
    log::info("storage", "there is room on the disk again: changes are accepted",
              {{"state_dir", state_dir_}, {"free_mb", free_bytes() / kMiB}});
    if (changed_) changed_(false);
  });
}

bool DiskGuard::make_reserve() {
  const int fd = ::open(reserve_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = ::posix_fallocate(fd, 0, reserve_bytes_) == 0;
  ::close(fd);
  if (!ok) ::unlink(reserve_path_.c_str());
  reserve_made_ = ok;
  return ok;
}

std::int64_t DiskGuard::free_bytes() const {
  return free_disk_bytes(state_dir_);
}

nlohmann::json DiskGuard::health() const {
  nlohmann::json alarms = nlohmann::json::array();
  if (full_)
    alarms.push_back("disk_full: the disk holding " + state_dir_ +
                     " is full; changes are refused until there is room (" +
                     std::to_string(free_bytes() / kMiB) + " MB free)");
  return {{"disk_full", full_},
          {"free_bytes", free_bytes()},
          {"reserve_bytes", reserve_made_ ? reserve_bytes_ : 0},
          {"alarms", alarms},
          {"failing", full_}};
}

}  // namespace fulfil::agent
