#pragma once
// The agent's SQLite database: one connection, used from the loop thread only.
//
// Inside the storage layer a failed SQLite call throws StorageFailure (disk full, I/O
// error, a lock held too long: rare, and never the caller's fault); the domain catches it
// at the transaction boundary and returns it as an error value, with the transaction
// rolled back.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/expected.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace fulfil::agent {

class StorageFailure : public std::runtime_error {
 public:
  StorageFailure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  // SQLITE_FULL: the disk (or the database's size limit) is full.
  bool disk_full() const;
  // SQLite's words for the code ("database or disk is full", "disk I/O error"), without
  // the statement: for people (API errors); what() is for the log.
  std::string summary() const;

 private:
  int code_;
};

// What a person is told when a change could not be stored: for a full disk, what to do;
// otherwise SQLite's words without the statement (that goes to the log).
std::string storage_failure_message(const StorageFailure& failure);
std::string disk_full_message();

// Why the database could not be opened (start-up refuses to run on any of these).
struct OpenError {
  std::string message;
};

struct DatabaseOptions {
  std::string path;
  // quick | full | off | background. Background: at open, only the small tables the
  // store's promises to the cloud run through (outbox, inbox, sync_state, meta) are
  // checked; the caller runs check_integrity() on the whole file after start-up.
  std::string integrity_check = "quick";
  int busy_timeout_ms = 5000;
  // The SQLite VFS to open the file through, by its registered name; "" for SQLite's
  // default. Production leaves it empty: the power-loss test (tests/storage) names a VFS
  // that forgets what was never synced.
  std::string vfs = {};
};

struct IntegrityResult {
  bool ok = false;
  std::string detail;  // "ok", or SQLite's findings and what to do
  double seconds = 0;
};

// PRAGMA quick_check of the whole database at `path` on a connection of its own, opened
// read-only: safe to run on a worker thread while the loop's connection writes. Setting
// `*stop` interrupts it.
IntegrityResult check_integrity(const std::string& path, const std::atomic<bool>* stop = nullptr);

class Database;
Expected<std::unique_ptr<Database>, OpenError> open_without_migrating(const std::string& path,
                                                                      const std::string& vfs = "");

class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind_null(int index);
  // Bytes that are not text (a PDF): stored as a BLOB, read back with blob().
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_optional(int index, const std::optional<std::string>& value);

  bool step();  // true while a row is available
  void run();   // step() to completion for statements without rows

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if needed), applies pending migrations, and checks integrity.
  static Expected<std::unique_ptr<Database>, OpenError> open(const DatabaseOptions& options);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // A cached prepared statement; reset when the returned object goes out of scope.
  // Statements are not re-entrant: finish with one before preparing the same SQL again.
  Statement prepare(std::string_view sql);
  void exec(const std::string& sql);
  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  bool in_transaction() const;
  // Differs after anything a read could see changed: rows written through this connection
  // (counted when written, so rolled-back rows count too) or a commit by any connection.
  // For caches of read results: equal versions, same data. Never fill a cache from inside
  // a transaction (what it read may still be rolled back).
  std::uint64_t data_version();
  int schema_version();
  sqlite3* handle() { return db_; }

  // A write failed for lack of disk space, and nobody has seen room come back since. Set
  // by the failure itself (whoever caught it); the daemon's disk guard clears it.
  bool disk_full() const { return disk_full_; }
  void clear_disk_full() { disk_full_ = false; }
  void mark_disk_full() { disk_full_ = true; }  // known before any write failed
  // Called (on the loop thread, while the failure is being thrown) when a write first
  // finds the disk full.
  void on_disk_full(std::function<void()> callback) { on_disk_full_ = std::move(callback); }

  // Throws StorageFailure for `rc`, noting a full disk first.
  [[noreturn]] void fail(int rc, std::string_view what);

 private:
  friend Expected<std::unique_ptr<Database>, OpenError> open_without_migrating(
      const std::string& path, const std::string& vfs);
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
  int savepoints_ = 0;
  unsigned int last_pager_version_ = 0;  // data_version()
  std::int64_t last_commit_version_ = 0;
  std::uint64_t version_changes_ = 0;
  bool disk_full_ = false;
  std::function<void()> on_disk_full_;
  friend class Transaction;
};

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails half-way
// for lack of it. Rolls back unless commit() was called.
//
// Transactions nest: inside an open one, a Transaction is a SAVEPOINT, so a domain
// command can run inside a caller's larger unit (the cloud feed applies a command and
// advances its cursor atomically) and still roll back alone when it refuses.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  std::string savepoint_;  // empty for the outermost transaction
  bool open_ = true;
};

// Schema migrations, forward only. Exposed so tests can build a database at any older
// version and check that opening it brings it to the current one intact.
int current_schema_version();
void migrate_to(Database& db, int version);
// What differs between the database's tables and those migrations 1..version make (for
// a message), or nothing when they match.
std::optional<std::string> schema_mismatch(Database& db, int version);

}  // namespace fulfil::agent
