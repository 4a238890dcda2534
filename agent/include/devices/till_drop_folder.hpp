#pragma once
// The POS feed for tills that can only write files: one file per till transaction in
// pos.drop_folder, JSON (the POS API's body) or CSV (README, POS feed). A till writes a
// file under a name starting with '.' and renames it when complete, so only names that
// do not start with '.' and end in .json or .csv are read: a half-written file is never
// seen. Each file is applied through TillSales (exactly once, by till and transaction id),
// then moved into done/; a refused one moves into quarantine/ with <name>.error.txt beside
// it saying what was wrong. A file whose transaction could not be stored (a full disk)
// stays where it is and is tried again.
//
// Listing, reading and moving files block (a drop folder is often a network share): they
// run on a worker thread; only parsing and applying run on the io_context's thread. A
// crash between applying and moving leaves the file in place: the next pass finds its
// transaction applied and moves it to done/ without applying it again.
//
// Destroying a TillDropFolder while a pass is in flight is safe: the worker finishes its
// file operation and its result is dropped.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "domain/store.hpp"

namespace fulfil::agent {

// Files larger than this are refused unread (quarantined): a till transaction of 200
// lines is a few kilobytes, and a bounded read keeps one pass short.
inline constexpr std::uintmax_t kMaxTillFileBytes = 256 * 1024;
// Files handled per pass; more are taken by the next pass, which follows at once.
inline constexpr std::size_t kTillFilesPerPass = 50;

struct TillDropPass {
  int applied = 0;
  int duplicates = 0;
  int quarantined = 0;
  int retry_later = 0;  // could not be stored now; left in place
  std::string error;    // the folder itself could not be read
};

class TillDropFolder {
 public:
  // `applied` runs after a pass that applied a transaction (outbox events are waiting).
  // The settings are read at every pass: pos.* changes take effect at the next one.
  TillDropFolder(boost::asio::io_context& io, Store& store, const config::Settings& settings,
                 std::function<void()> applied);
  ~TillDropFolder();
  TillDropFolder(const TillDropFolder&) = delete;
  TillDropFolder& operator=(const TillDropFolder&) = delete;

  void start();  // a pass now, then every pos.drop_poll_s
  void stop();
  // One pass now; `done` runs on the io_context's thread when it is over (tests, fulfilctl).
  void pass(std::function<void(const TillDropPass&)> done);
  // Null while pos.drop_folder is empty; else the folder, the last pass and its alarms.
  nlohmann::json health() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::agent
