#include "devices/till_drop_folder.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>

#include "config/json_input.hpp"
#include "config/log.hpp"

namespace fulfil::agent {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// --- on the worker thread: the file system only ---------------------------------------

struct FoundFile {
  std::string name;
  std::string text;
  std::string problem;  // unreadable or too large: quarantined without parsing
};

struct Listing {
  std::vector<FoundFile> files;
  bool more = false;  // more files than one pass takes
  std::string error;  // the folder itself
};

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Complete files only: a till writes ".name.tmp" (or any name starting with '.') and
// renames it to its final name when the file is whole.
bool is_till_file(const fs::directory_entry& e) {
  std::error_code ec;
  if (!e.is_regular_file(ec)) return false;
  const std::string name = e.path().filename().string();
  const std::string ext = lower(e.path().extension().string());
  return !name.empty() && name.front() != '.' && (ext == ".json" || ext == ".csv");
}

FoundFile read_file(const fs::path& path) {
  FoundFile f{path.filename().string(), "", ""};
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    f.problem = "cannot read the file: " + ec.message();
  } else if (size > kMaxTillFileBytes) {
    f.problem = "the file has " + std::to_string(size) +
                " bytes; a till transaction file may have at most " +
                std::to_string(kMaxTillFileBytes);
  } else {
    // What the file held when it was measured, and no more: bounded even if a till
    // breaks the rule and is still writing it.
    std::ifstream in(path, std::ios::binary);
    f.text.resize(static_cast<std::size_t>(size));
    in.read(f.text.data(), static_cast<std::streamsize>(size));
    f.text.resize(static_cast<std::size_t>(in.gcount()));
    if (!in.is_open() || in.bad()) f.problem = "cannot read the file";
  }
  return f;
}

Listing list_and_read(const std::string& folder) {
  Listing out;
  std::error_code ec;
  fs::create_directories(fs::path(folder) / "done", ec);
  if (!ec) fs::create_directories(fs::path(folder) / "quarantine", ec);
  if (ec) {
    out.error = "drop folder " + folder + ": " + ec.message();
    return out;
  }
  std::vector<fs::path> names;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (is_till_file(*it)) names.push_back(it->path());
  if (ec) {
    out.error = "drop folder " + folder + ": " + ec.message();
    return out;
  }
  std::ranges::sort(names);  // tills name files by time or receipt number
  out.more = names.size() > kTillFilesPerPass;
  if (out.more) names.resize(kTillFilesPerPass);
  for (const auto& p : names) out.files.push_back(read_file(p));
  return out;
}

struct Disposal {
  std::string name;
  bool done = true;        // into done/; else into quarantine/ with the error text
  std::string error_text;  // why it was refused
};

// `name` in `dir`, or name.1, name.2, ... when a till reuses its file names.
fs::path free_name(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  fs::path p = dir / name;
  for (int n = 1; fs::exists(p, ec) && n < 10000; ++n) p = dir / (name + "." + std::to_string(n));
  return p;
}

// Returns what could not be moved (the file stays; the next pass finds it applied).
std::vector<std::string> dispose(const std::string& folder, const std::vector<Disposal>& files) {
  std::vector<std::string> problems;
  for (const auto& d : files) {
    const fs::path dir = fs::path(folder) / (d.done ? "done" : "quarantine");
    const fs::path target = free_name(dir, d.name);
    if (!d.done) {
      std::ofstream note(dir / (target.filename().string() + ".error.txt"), std::ios::trunc);
      note << d.name << ": " << d.error_text << "\n";
    }
    std::error_code ec;
    fs::rename(fs::path(folder) / d.name, target, ec);
    if (ec) problems.push_back(d.name + ": cannot move into " + dir.string() + ": " + ec.message());
  }
  return problems;
}

}  // namespace

// --- on the io_context's thread ---------------------------------------------------------

struct TillDropFolder::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Store& store, const config::Settings& settings,
       std::function<void()> applied)
      : io(io), store(store), settings(settings), applied(std::move(applied)), timer(io) {}

  asio::io_context& io;
  Store& store;
  const config::Settings& settings;
  std::function<void()> applied;
  asio::steady_timer timer;
  // The file system blocks: its calls run here, one at a time. Started with the first
  // pass that has a folder, so a store without a drop folder has no thread for it.
  std::optional<asio::thread_pool> pool;
  asio::thread_pool& workers() {
    if (!pool) pool.emplace(1);
    return *pool;
  }
  bool running = false;                                           // the timer is on
  bool busy = false;                                              // a pass is in flight
  std::vector<std::function<void(const TillDropPass&)>> waiting;  // for the next pass
  TillDropPass totals;
  TillDropPass last;
  std::int64_t last_pass_at = 0;

  void schedule(std::chrono::milliseconds after) {
    if (!running) return;
    timer.expires_after(after);
    timer.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
      auto s = self.lock();
      if (ec || !s || !s->running) return;
      s->begin({});
    });
  }

  using Callers = std::vector<std::function<void(const TillDropPass&)>>;

  // A pass asked for while one is in flight runs after it: the one in flight may have
  // listed the folder before the caller's file arrived.
  void begin(std::function<void(const TillDropPass&)> done) {
    if (done) waiting.push_back(std::move(done));
    if (busy) return;
    Callers callers = std::move(waiting);
    waiting.clear();
    const std::string folder = settings.pos.drop_folder;
    if (folder.empty()) return finish({}, false, std::move(callers));
    busy = true;
    // The loop has work while the worker has: its answer is coming.
    asio::post(workers(),
               [self = weak_from_this(), folder, &io = io, work = asio::make_work_guard(io),
                callers = std::move(callers)]() mutable {
                 auto listing = list_and_read(folder);
                 asio::post(io, [self, folder, listing = std::move(listing), work = std::move(work),
                                 callers = std::move(callers)]() mutable {
                   if (auto s = self.lock())
                     s->apply(folder, std::move(listing), std::move(callers));
                 });
               });
  }

  void apply(const std::string& folder, Listing listing, Callers callers) {
    TillDropPass pass;
    pass.error = listing.error;
    std::vector<Disposal> disposals;
    for (auto& f : listing.files)
      if (auto d = apply_file(f, pass)) disposals.push_back(std::move(*d));
    if (pass.applied > 0 && applied) applied();
    asio::post(workers(), [self = weak_from_this(), folder, &io = io, pass, more = listing.more,
                           work = asio::make_work_guard(io), disposals = std::move(disposals),
                           callers = std::move(callers)]() mutable {
      auto problems = dispose(folder, disposals);
      asio::post(io, [self, pass, more, problems = std::move(problems), work = std::move(work),
                      callers = std::move(callers)]() mutable {
        auto s = self.lock();
        if (!s) return;
        for (const auto& p : problems)
          log::warn("pos", "a till file was not moved", {{"error", p}});
        s->busy = false;
        s->finish(pass, more, std::move(callers));
      });
    });
  }

  // What happens to one file: nothing (it stays, to be tried again) or where it goes.
  std::optional<Disposal> apply_file(const FoundFile& f, TillDropPass& pass) {
    auto refuse = [&](const std::string& why) {
      pass.quarantined++;
      log::warn("pos", "till file quarantined", {{"file", f.name}, {"error", why}});
      return Disposal{f.name, false, why};
    };
    if (!f.problem.empty()) return refuse(f.problem);
    auto t = parse(f);
    if (!t) return refuse(t.error());
    if (store.db().disk_full()) {
      pass.retry_later++;
      return std::nullopt;
    }
    const CommandContext ctx{{Actor::Kind::device, "pos-drop-folder"}, now_ms()};
    auto out = store.till_sales().apply(*t, ctx);
    if (!out && out.error().code == DomainErrc::storage) {
      pass.retry_later++;
      log::warn("pos", "a till file waits: its transaction could not be stored",
                {{"file", f.name}, {"error", out.error().message}});
      return std::nullopt;
    }
    if (!out) return refuse(std::string(errc_name(out.error().code)) + ": " + out.error().message);
    (out->duplicate ? pass.duplicates : pass.applied)++;
    return Disposal{f.name, true, ""};
  }

  Expected<TillTransaction, std::string> parse(const FoundFile& f) const {
    const std::string& till = settings.pos.drop_till_id;
    if (lower(fs::path(f.name).extension().string()) == ".csv")
      return till_transaction_from_csv(f.text, till);
    auto doc = parse_json(f.text);
    if (!doc) return unexpected("not valid JSON: " + doc.error());
    return till_transaction_from_json(*doc, till);
  }

  void finish(const TillDropPass& pass, bool more, Callers callers) {
    last = pass;
    last_pass_at = now_ms();
    totals.applied += pass.applied;
    totals.duplicates += pass.duplicates;
    totals.quarantined += pass.quarantined;
    if (!pass.error.empty())
      log::warn("pos", "the drop folder cannot be read", {{"error", pass.error}});
    for (auto& c : callers) c(pass);
    if (!waiting.empty()) return begin({});
    schedule(more ? std::chrono::milliseconds(0)
                  : std::chrono::milliseconds(std::int64_t{settings.pos.drop_poll_s} * 1000));
  }
};

TillDropFolder::TillDropFolder(asio::io_context& io, Store& store, const config::Settings& settings,
                               std::function<void()> applied)
    : impl_(std::make_shared<Impl>(io, store, settings, std::move(applied))) {}

TillDropFolder::~TillDropFolder() {
  stop();
  if (impl_->pool)
    impl_->pool->join();  // a file operation in flight finishes; its result is dropped
}

void TillDropFolder::start() {
  impl_->running = true;
  impl_->schedule(std::chrono::milliseconds(0));
}

void TillDropFolder::stop() {
  impl_->running = false;
  impl_->timer.cancel();
}

void TillDropFolder::pass(std::function<void(const TillDropPass&)> done) {
  impl_->begin(std::move(done));
}

json TillDropFolder::health() const {
  const auto& s = *impl_;
  if (s.settings.pos.drop_folder.empty()) return nullptr;
  json alarms = json::array();
  if (!s.last.error.empty()) alarms.push_back(s.last.error);
  return {{"folder", s.settings.pos.drop_folder},   {"till_id", s.settings.pos.drop_till_id},
          {"last_pass_at", s.last_pass_at},         {"applied", s.totals.applied},
          {"duplicates", s.totals.duplicates},      {"quarantined", s.totals.quarantined},
          {"waiting_to_store", s.last.retry_later}, {"alarms", alarms}};
}

}  // namespace fulfil::agent
