#include "storage/database.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>

#include <sqlite3.h>
#include <unistd.h>

namespace fulfil::agent {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  throw StorageFailure(rc,
                       std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

std::string single_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr); rc != SQLITE_OK) fail(db, rc, sql);
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    if (!out.empty()) out += "; ";
    const auto* t = sqlite3_column_text(stmt, 0);
    out += t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(stmt);
  return out;
}

std::string corrupt_advice(const std::string& path) {
  return "Restore " + path + " from a backup, or move it aside to let the cloud re-seed the store.";
}

// What "background" checks before start-up goes on: the tables the store's promises to
// the cloud run through (its sequence numbers, the feed's cursor and applied commands, the
// database's identity), which retention keeps small. The rest is checked after READY.
constexpr const char* kStartCheckedTables[] = {"meta", "sync_state", "outbox", "inbox"};

// quick_check of the start-checked tables that exist (an old schema may lack one): "ok",
// or SQLite's findings.
std::string quick_check_start_tables(sqlite3* db) {
  std::string findings;
  for (const char* table : kStartCheckedTables) {
    const std::string exists =
        single_text(db, ("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='" +
                         std::string(table) + "'")
                            .c_str());
    if (exists != "1") continue;
    const std::string result =
        single_text(db, ("PRAGMA quick_check(" + std::string(table) + ")").c_str());
    if (result != "ok") findings += (findings.empty() ? "" : "; ") + result;
  }
  return findings.empty() ? "ok" : findings;
}

}  // namespace

bool StorageFailure::disk_full() const {
  return (code_ & 0xff) == SQLITE_FULL;
}

std::string StorageFailure::summary() const {
  return code_ == 0 ? what() : sqlite3_errstr(code_);
}

std::string disk_full_message() {
  return "the disk holding the store's database is full: nothing was changed. Free space on "
         "the store box; fulfild carries on by itself once there is room";
}

std::string storage_failure_message(const StorageFailure& failure) {
  if (failure.disk_full()) return disk_full_message();
  return "the store's database failed (" + failure.summary() +
         "): nothing was changed. Try again; if it keeps failing, the log has the details";
}

void Database::fail(int rc, std::string_view what) {
  StorageFailure failure(rc, std::string(what) + ": " + sqlite3_errmsg(db_));
  if (failure.disk_full() && !disk_full_) {
    disk_full_ = true;
    if (on_disk_full_) on_disk_full_();
  }
  throw failure;
}

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) db_.fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                 SQLITE_TRANSIENT);
      rc != SQLITE_OK)
    db_.fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  if (int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
      rc != SQLITE_OK)
    db_.fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) db_.fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::string>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* t = sqlite3_column_text(stmt_, column);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

std::string Statement::blob(int column) const {
  const auto* b = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return b ? std::string(b, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Expected<std::unique_ptr<Database>, OpenError> open_without_migrating(const std::string& path,
                                                                      const std::string& vfs) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return unexpected(OpenError{"cannot open database " + path + ": " + msg});
  }
  return std::unique_ptr<Database>(new Database(raw));
}

Expected<std::unique_ptr<Database>, OpenError> Database::open(const DatabaseOptions& options) {
  auto opened = open_without_migrating(options.path, options.vfs);
  if (!opened) return opened;
  auto db = std::move(*opened);
  try {
    // SQLite opens a file it may not write read-only without a word, and every write
    // would then fail with a raw message: refuse now, while someone is looking.
    if (sqlite3_db_readonly(db->db_, "main") == 1)
      return unexpected(OpenError{
          "database " + options.path + " is read-only for this process (uid " +
          std::to_string(::getuid()) +
          "): fulfild must be able to write it and its directory. Check the owner and mode "
          "of the file and the directory (and that the file system is mounted read-write)."});
    sqlite3_busy_timeout(db->db_, options.busy_timeout_ms);
    // A new database keeps its free pages on a list retention hands back to the file
    // system a few at a time (PRAGMA incremental_vacuum), never blocking the loop. The
    // mode can be set only before the first table: an existing database keeps the mode it
    // has (converting needs a full VACUUM, which copies the whole file while writes wait);
    // it reuses its free pages instead of returning them.
    // Before WAL mode is set: that writes the first page, and the mode is fixed with it.
    std::error_code size_error;
    if (std::filesystem::file_size(options.path, size_error) == 0 && !size_error &&
        !std::filesystem::exists(options.path + "-wal", size_error))
      db->exec("PRAGMA auto_vacuum=INCREMENTAL");
    // A file that is not a database fails here, on the first read of its header.
    const std::string mode = single_text(db->db_, "PRAGMA journal_mode=WAL");
    if (mode != "wal")
      return unexpected(OpenError{"database " + options.path +
                                  " cannot use write-ahead logging (journal_mode=" + mode + ")"});
    // WAL with synchronous=FULL: every commit is fsync'ed to the WAL before we tell an
    // associate or the cloud that it happened. NORMAL would be faster but may lose the
    // last commits on power loss, which would break "told means committed". The price
    // (one fsync per commit) is measured in tests/bench.
    db->exec("PRAGMA synchronous=FULL");
    db->exec("PRAGMA foreign_keys=ON");
    // Savepoints' undo records (every API change nests one) and temporary tables stay in
    // memory: a savepoint's spilled to a file past 64 KiB, which wrote to the flash data
    // that never outlives its transaction (tests/bench/bench_wear).
    db->exec("PRAGMA temp_store=MEMORY");
    // One large transaction (a 100k-SKU stock snapshot) grows the WAL to tens of MB, and
    // SQLite keeps that size for ever unless told: after a checkpoint resets the WAL it is
    // cut back to 4 MiB (tests/bench/bench_year saw 31.8 MB kept all year).
    db->exec("PRAGMA journal_size_limit=4194304");
    if (options.integrity_check != "off") {
      const bool background = options.integrity_check == "background";
      const char* pragma = options.integrity_check == "full" ? "PRAGMA integrity_check"
                           : background                      ? "PRAGMA quick_check(<table>)"
                                                             : "PRAGMA quick_check";
      const std::string result =
          background ? quick_check_start_tables(db->db_) : single_text(db->db_, pragma);
      if (result != "ok")
        return unexpected(OpenError{"database " + options.path + " is corrupt (" + pragma + ": " +
                                    result.substr(0, 500) + "); refusing to start. " +
                                    corrupt_advice(options.path)});
    }
    const int version = db->schema_version();
    if (version > current_schema_version())
      return unexpected(OpenError{"database " + options.path + " has schema version " +
                                  std::to_string(version) + ", newer than this fulfild (" +
                                  std::to_string(current_schema_version()) +
                                  "); refusing to downgrade"});
    if (version < 0)
      return unexpected(
          OpenError{"database " + options.path + " has schema version " + std::to_string(version) +
                    ", which no fulfild ever wrote: it is damaged or not fulfild's. " +
                    corrupt_advice(options.path)});
    if (auto mismatch = schema_mismatch(*db, version))
      return unexpected(
          OpenError{"database " + options.path + " says schema version " + std::to_string(version) +
                    " but does not hold that version's tables (" + *mismatch +
                    "): it is damaged or not fulfild's. " + corrupt_advice(options.path)});
    migrate_to(*db, current_schema_version());
  } catch (const StorageFailure& e) {
    // Damage to the schema page surfaces on the first statement, before the integrity
    // check: it is the same corruption and is reported the same way.
    if ((e.code() & 0xff) == SQLITE_CORRUPT)
      return unexpected(OpenError{"database " + options.path + " is corrupt (" + e.what() +
                                  "); refusing to start. " + corrupt_advice(options.path)});
    return unexpected(OpenError{"database " + options.path + ": " + e.what()});
  }
  return db;
}

IntegrityResult check_integrity(const std::string& path, const std::atomic<bool>* stop) {
  const auto started = std::chrono::steady_clock::now();
  IntegrityResult r;
  sqlite3* db = nullptr;
  // Its own connection, read-only: it shares nothing with the loop's, so it may run on
  // another thread, and in WAL mode it reads a snapshot while the loop writes.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (stop && stop->load()) {
    r.detail = "quick_check: interrupted before it started";
  } else if (rc == SQLITE_OK) {
    // Polled every 1000 virtual machine steps: a stop ends the check at its next step (the
    // b-tree walk of one schema is a single step) and is reported as interrupted.
    if (stop)
      sqlite3_progress_handler(
          db, 1000,
          [](void* flag) { return static_cast<std::atomic<bool>*>(flag)->load() ? 1 : 0; },
          const_cast<std::atomic<bool>*>(stop));
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(stmt, 0);
      r.detail +=
          (r.detail.empty() ? "" : "; ") + std::string(t ? reinterpret_cast<const char*>(t) : "");
      rc = SQLITE_OK;
    }
    // A damaged page may also fail the statement itself, as may a stop (interrupted).
    if (rc != SQLITE_DONE) r.detail = std::string("quick_check: ") + sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    r.ok = rc == SQLITE_DONE && r.detail == "ok";
  } else {
    r.detail = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  }
  sqlite3_close(db);
  if (!r.ok) r.detail = r.detail.substr(0, 500) + ". " + corrupt_advice(path);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Statement Database::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Statement(*this, it->second);
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, sql.size() > 60 ? sql.substr(0, 60) + "..." : sql);
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

int Database::schema_version() {
  return std::stoi(single_text(db_, "PRAGMA user_version"));
}

std::uint64_t Database::data_version() {
  // Three counters, as none sees everything: total_changes counts rows this connection
  // wrote; the pager's version moves on any commit this connection makes (schema changes
  // too) but sees another connection's commit only once this one reads again; PRAGMA
  // data_version looks at the WAL index, so another connection's commit shows at once.
  // Versions are compared, not added (their values are opaque); each part only grows, so
  // the sum grows whenever one of them does.
  unsigned int pager = 0;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION, &pager);
  if (pager != last_pager_version_) {
    last_pager_version_ = pager;
    ++version_changes_;
  }
  auto s = prepare("PRAGMA data_version");
  const auto others = s.step() ? s.int64(0) : 0;
  if (others != last_commit_version_) {
    last_commit_version_ = others;
    ++version_changes_;
  }
  return static_cast<std::uint64_t>(sqlite3_total_changes64(db_)) + version_changes_;
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

Transaction::Transaction(Database& db) : db_(db) {
  if (!db_.in_transaction()) {
    db_.exec("BEGIN IMMEDIATE");
    return;
  }
  savepoint_ = "nested_" + std::to_string(++db_.savepoints_);
  db_.exec("SAVEPOINT " + savepoint_);
}

Transaction::~Transaction() {
  if (!open_) return;
  const std::string sql =
      savepoint_.empty() ? "ROLLBACK" : "ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_;
  char* err = nullptr;
  sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (!savepoint_.empty()) --db_.savepoints_;
}

void Transaction::commit() {
  if (savepoint_.empty()) {
    db_.exec("COMMIT");
  } else {
    db_.exec("RELEASE " + savepoint_);
    --db_.savepoints_;
  }
  open_ = false;
}

}  // namespace fulfil::agent
