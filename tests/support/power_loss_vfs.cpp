#include "power_loss_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace fulfil::test {
namespace {

constexpr std::int64_t kSector = 512;

// Our part of each open file; the wrapped VFS's file follows it in the same allocation.
struct File {
  sqlite3_file base;
  PowerLossVfs* owner;
  PowerLossVfs::TrackedFile* tracked;  // nullptr: a temporary file, passed through
  sqlite3_file* real;
  const char* kind;  // for cut_call(): "fulfild.db-wal", "statement journal", ...
};

// What a file is, for the report of where the power went.
const char* kind_of(const char* name, int flags) {
  if (flags & SQLITE_OPEN_SUBJOURNAL) return "statement journal";
  if (flags & SQLITE_OPEN_TRANSIENT_DB) return "transient database (sorting, grouping)";
  if (flags & SQLITE_OPEN_TEMP_DB) return "temp database";
  if (flags & SQLITE_OPEN_TEMP_JOURNAL) return "temp journal";
  if (flags & SQLITE_OPEN_MAIN_JOURNAL) return "rollback journal";
  if (flags & SQLITE_OPEN_WAL) return "WAL";
  if (flags & SQLITE_OPEN_MAIN_DB) return "database";
  return name ? "other file" : "temporary file";
}

PowerLossVfs* owner_of(sqlite3_vfs* vfs) {
  return static_cast<PowerLossVfs*>(vfs->pAppData);
}
File* as_file(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void apply(std::string& image, const PowerLossVfs::Pending& p, std::size_t from, std::size_t to) {
  if (p.truncate) {
    image.resize(static_cast<std::size_t>(p.offset));
    return;
  }
  const auto at = static_cast<std::size_t>(p.offset) + from;
  if (image.size() < at + (to - from)) image.resize(at + (to - from));
  std::copy(p.data.begin() + static_cast<std::ptrdiff_t>(from),
            p.data.begin() + static_cast<std::ptrdiff_t>(to),
            image.begin() + static_cast<std::ptrdiff_t>(at));
}

// What the disk kept of one file; returns how many of its unsynced writes were lost in
// full or in part.
std::size_t surviving(PowerLossVfs::TrackedFile& t, PowerLossVfs::Loss loss, std::mt19937& rng) {
  using Loss = PowerLossVfs::Loss;
  std::size_t lost = 0;
  for (const auto& p : t.pending) lost += p.truncate ? 0 : 1;
  if (loss == Loss::torn_last) {
    for (auto it = t.pending.rbegin(); it != t.pending.rend(); ++it) {
      if (it->truncate) continue;
      apply(t.durable, *it, 0, std::min<std::size_t>(it->data.size(), kSector));
      break;
    }
  } else if (loss == Loss::none) {
    for (const auto& p : t.pending) apply(t.durable, p, 0, p.data.size());
    lost = 0;
  } else if (loss == Loss::random_sectors) {
    for (const auto& p : t.pending) {
      if (p.truncate) {
        if (rng() % 2) apply(t.durable, p, 0, 0);
        continue;
      }
      // Sectors are aligned to the file, not to the write.
      std::size_t from = 0;
      while (from < p.data.size()) {
        const auto offset = p.offset + static_cast<std::int64_t>(from);
        const auto to =
            std::min(p.data.size(), from + static_cast<std::size_t>(kSector - offset % kSector));
        if (rng() % 2) apply(t.durable, p, from, to);
        from = to;
      }
    }
  }
  t.pending.clear();
  return lost;
}

int x_close(sqlite3_file* f) {
  File* file = as_file(f);
  const int rc = file->real->pMethods->xClose(file->real);
  --file->owner->open_files;
  return rc;
}

int x_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  File* file = as_file(f);
  if (file->owner->cut()) return SQLITE_IOERR_READ;
  return file->real->pMethods->xRead(file->real, buf, amount, offset);
}

int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  File* file = as_file(f);
  if (!file->owner->tick("write", file->kind)) return SQLITE_IOERR_WRITE;
  const int rc = file->real->pMethods->xWrite(file->real, buf, amount, offset);
  if (rc == SQLITE_OK && file->tracked)
    file->tracked->pending.push_back(
        {false, offset,
         std::string(static_cast<const char*>(buf), static_cast<std::size_t>(amount))});
  return rc;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  File* file = as_file(f);
  if (!file->owner->tick("truncate", file->kind)) return SQLITE_IOERR_TRUNCATE;
  const int rc = file->real->pMethods->xTruncate(file->real, size);
  if (rc == SQLITE_OK && file->tracked) file->tracked->pending.push_back({true, size, {}});
  return rc;
}

int x_sync(sqlite3_file* f, int flags) {
  File* file = as_file(f);
  if (!file->owner->tick("sync", file->kind)) return SQLITE_IOERR_FSYNC;
  const int rc = file->real->pMethods->xSync(file->real, flags);
  if (rc == SQLITE_OK && file->tracked) {
    for (const auto& p : file->tracked->pending) apply(file->tracked->durable, p, 0, p.data.size());
    file->tracked->pending.clear();
  }
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  File* file = as_file(f);
  if (file->owner->cut()) return SQLITE_IOERR_FSTAT;
  return file->real->pMethods->xFileSize(file->real, size);
}

// Locks, file controls and shared memory pass straight through: the cut is about what
// reaches the disk, and closing the connection after it must still release its locks.
int x_lock(sqlite3_file* f, int level) {
  return as_file(f)->real->pMethods->xLock(as_file(f)->real, level);
}
int x_unlock(sqlite3_file* f, int level) {
  return as_file(f)->real->pMethods->xUnlock(as_file(f)->real, level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return as_file(f)->real->pMethods->xCheckReservedLock(as_file(f)->real, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return as_file(f)->real->pMethods->xFileControl(as_file(f)->real, op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return as_file(f)->real->pMethods->xSectorSize(as_file(f)->real);
}
int x_device_characteristics(sqlite3_file* f) {
  return as_file(f)->real->pMethods->xDeviceCharacteristics(as_file(f)->real);
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return as_file(f)->real->pMethods->xShmMap(as_file(f)->real, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return as_file(f)->real->pMethods->xShmLock(as_file(f)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  as_file(f)->real->pMethods->xShmBarrier(as_file(f)->real);
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return as_file(f)->real->pMethods->xShmUnmap(as_file(f)->real, delete_flag);
}

// Version 2: no xFetch, so every read and write of the database goes through the calls
// above (no memory-mapped I/O around them).
const sqlite3_io_methods kMethods = {2,
                                     x_close,
                                     x_read,
                                     x_write,
                                     x_truncate,
                                     x_sync,
                                     x_file_size,
                                     x_lock,
                                     x_unlock,
                                     x_check_reserved_lock,
                                     x_file_control,
                                     x_sector_size,
                                     x_device_characteristics,
                                     x_shm_map,
                                     x_shm_lock,
                                     x_shm_barrier,
                                     x_shm_unmap,
                                     nullptr,
                                     nullptr};

constexpr int kTrackedKinds = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL;

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  PowerLossVfs* owner = owner_of(vfs);
  File* file = as_file(f);
  file->base.pMethods = nullptr;
  if (owner->cut()) return SQLITE_CANTOPEN;
  file->owner = owner;
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->kind = kind_of(name, flags);
  file->tracked = name && (flags & kTrackedKinds) ? &owner->track(name) : nullptr;
  const int rc = owner->real()->xOpen(owner->real(), name, file->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  // A file created now counts as created on the disk at once (see the header).
  if (file->tracked && !file->tracked->exists) *file->tracked = {true, {}, {}};
  file->base.pMethods = &kMethods;
  ++owner->open_files;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  PowerLossVfs* owner = owner_of(vfs);
  if (owner->cut()) return SQLITE_IOERR_DELETE;
  const int rc = owner->real()->xDelete(owner->real(), name, sync_dir);
  // Gone at once, durable or not (see the header).
  if (rc == SQLITE_OK) owner->track(name) = {false, {}, {}};
  return rc;
}

int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return owner_of(vfs)->real()->xAccess(owner_of(vfs)->real(), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return owner_of(vfs)->real()->xFullPathname(owner_of(vfs)->real(), name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) {
  return owner_of(vfs)->real()->xDlOpen(owner_of(vfs)->real(), name);
}
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  owner_of(vfs)->real()->xDlError(owner_of(vfs)->real(), n, out);
}
void (*x_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return owner_of(vfs)->real()->xDlSym(owner_of(vfs)->real(), handle, symbol);
}
void x_dl_close(sqlite3_vfs* vfs, void* handle) {
  owner_of(vfs)->real()->xDlClose(owner_of(vfs)->real(), handle);
}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return owner_of(vfs)->real()->xRandomness(owner_of(vfs)->real(), n, out);
}
int x_sleep(sqlite3_vfs* vfs, int microseconds) {
  return owner_of(vfs)->real()->xSleep(owner_of(vfs)->real(), microseconds);
}
int x_current_time(sqlite3_vfs* vfs, double* out) {
  return owner_of(vfs)->real()->xCurrentTime(owner_of(vfs)->real(), out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return owner_of(vfs)->real()->xGetLastError(owner_of(vfs)->real(), n, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return owner_of(vfs)->real()->xCurrentTimeInt64(owner_of(vfs)->real(), out);
}

}  // namespace

PowerLossVfs::PowerLossVfs(std::string name)
    : name_(std::move(name)), real_(sqlite3_vfs_find(nullptr)), vfs_(new sqlite3_vfs{}) {
  if (!real_ || real_->iVersion < 2) throw std::runtime_error("no default SQLite VFS to wrap");
  *vfs_ = {2,
           static_cast<int>(sizeof(File)) + real_->szOsFile,
           real_->mxPathname,
           nullptr,
           name_.c_str(),
           this,
           x_open,
           x_delete,
           x_access,
           x_full_pathname,
           x_dl_open,
           x_dl_error,
           x_dl_sym,
           x_dl_close,
           x_randomness,
           x_sleep,
           x_current_time,
           x_get_last_error,
           x_current_time_int64,
           nullptr,
           nullptr,
           nullptr};
  if (sqlite3_vfs_register(vfs_, 0) != SQLITE_OK) {
    delete vfs_;
    throw std::runtime_error("cannot register the SQLite VFS " + name_);
  }
}

PowerLossVfs::~PowerLossVfs() {
  sqlite3_vfs_unregister(vfs_);
  delete vfs_;
}

PowerLossVfs::TrackedFile& PowerLossVfs::track(const std::string& path) {
  auto [it, added] = files_.try_emplace(path);
  if (added && std::filesystem::exists(path)) it->second = {true, read_whole(path), {}};
  return it->second;
}

bool PowerLossVfs::tick(const char* what, const char* file) {
  if (cut_) return false;
  if (++io_count_ == cut_at_) {
    cut_ = true;
    cut_call_ = std::string(what) + " of " + file;
  }
  return !cut_;
}

std::size_t PowerLossVfs::restore(Loss loss, std::mt19937& rng) {
  if (open_files != 0) throw std::logic_error("PowerLossVfs::restore with files still open");
  std::size_t lost = 0;
  for (auto& [path, t] : files_) {
    std::filesystem::remove(path + "-shm");
    if (!t.exists) {
      std::filesystem::remove(path);
      continue;
    }
    lost += surviving(t, loss, rng);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(t.durable.data(), static_cast<std::streamsize>(t.durable.size()));
    if (!out) throw std::runtime_error("cannot rewrite " + path);
  }
  cut_ = false;
  cut_at_ = 0;
  cut_call_.clear();
  return lost;
}

void PowerLossVfs::forget(const std::string& directory) {
  const std::string prefix = directory + "/";
  std::erase_if(files_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
}

}  // namespace fulfil::test
