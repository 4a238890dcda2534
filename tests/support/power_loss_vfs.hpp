#pragma once
// A SQLite VFS that simulates a power cut, as SQLite's own crash tests do (test_vfs.c,
// crash tests): it wraps the default VFS and passes everything through, but remembers,
// per file, the content as of that file's last xSync (its durable image) and the writes
// and truncations made since. At the cut (the Nth write, truncate or sync) the power goes:
// that call and every later I/O fail with SQLITE_IOERR, so the workload stops there. Once
// the connection is closed, restore() rewrites each file to what a disk may have kept: its
// durable image plus, by the chosen Loss, none, a torn part or a random subset of the
// 512-byte sectors written since its last sync, or (by luck) all of them. The -shm file is not
// durable: restore() removes it, and SQLite rebuilds it from the WAL.
//
// What it models: the main database, its WAL and its rollback journal (the files a power
// cut can damage); unsynced writes lost or torn at sector granularity, in any order.
// What it does not: a deleted file counts as gone at once (a real unlink is durable only
// after the directory is synced, so a cut could bring a just-deleted WAL back), a file
// created counts as created at once (its directory entry likewise), lying disks that
// acknowledge a sync they did not do, and bit rot. Files that exist before the VFS first
// opens them count as durable as they are. Temporary files (statement journals, sorting)
// are not tracked, nothing of them matters after a restart, but their writes are cut
// points like any other.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

struct sqlite3_vfs;

namespace fulfil::test {

class PowerLossVfs {
 public:
  // What the disk kept of the writes made since each file's last sync.
  enum class Loss {
    all,             // nothing: every unsynced write is lost
    torn_last,       // only the first sector of the last unsynced write
    random_sectors,  // each unsynced sector (and truncation) kept or lost at random
    none,            // the disk had written everything before the power went
  };

  // Registers the VFS under `name` (not as the default); unregistered when destroyed.
  explicit PowerLossVfs(std::string name = "fulfil-power-loss");
  ~PowerLossVfs();
  PowerLossVfs(const PowerLossVfs&) = delete;
  PowerLossVfs& operator=(const PowerLossVfs&) = delete;

  const std::string& name() const { return name_; }
  // Writes, truncations and syncs of tracked files so far (the cut's clock).
  std::uint64_t io_count() const { return io_count_; }
  // The power goes at the io_count()-th call equal to `io` (that call does not happen);
  // 0: never.
  void cut_at(std::uint64_t io) { cut_at_ = io; }
  bool cut() const { return cut_; }
  // Which call the power went at ("sync of WAL"), for reports.
  const std::string& cut_call() const { return cut_call_; }

  // The power comes back: every tracked file is rewritten to what the disk kept (see
  // Loss), -shm files are removed, and the cut is cleared. Only while no file is open
  // (close the database first). Returns how many unsynced writes were lost in full or part.
  std::size_t restore(Loss loss, std::mt19937& rng);
  // Stops tracking the files under `directory` (a test's finished database).
  void forget(const std::string& directory);

  // Used by the VFS's C callbacks.
  struct Pending {
    bool truncate = false;
    std::int64_t offset = 0;  // where the write starts, or the size truncated to
    std::string data;
  };
  struct TrackedFile {
    bool exists = false;
    std::string durable;           // the content as of the last sync
    std::vector<Pending> pending;  // since then, in order
  };
  TrackedFile& track(const std::string& path);
  // Counts one write-side call (`what` of `file`, a kind of file); false when the power is
  // (or just went) off.
  bool tick(const char* what, const char* file);
  int open_files = 0;
  sqlite3_vfs* real() const { return real_; }

 private:
  std::string name_;
  sqlite3_vfs* real_;
  sqlite3_vfs* vfs_;
  std::map<std::string, TrackedFile> files_;
  std::uint64_t io_count_ = 0;
  std::uint64_t cut_at_ = 0;
  bool cut_ = false;
  std::string cut_call_;
};

}  // namespace fulfil::test
