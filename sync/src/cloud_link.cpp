#include "sync/cloud_link.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "config/json_input.hpp"
#include "config/log.hpp"
#include "config/url.hpp"
#include "domain/cloud_commands.hpp"
#include "sync/backoff.hpp"
#include "sync/event_batch.hpp"
#include "sync/recovery.hpp"

namespace fulfil::sync {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Fault-injection hook for the crash tests: FULFIL_CRASH_POINT=<name> makes the process
// die by SIGKILL exactly there, as a power cut would.
void crash_point(const char* name) {
  static const char* wanted = std::getenv("FULFIL_CRASH_POINT");
  if (wanted && std::string_view(wanted) == name) std::raise(SIGKILL);
}

std::string describe(const HttpResponse& r) {
  if (!r.transport_error.empty()) return r.transport_error;
  std::string body = r.body.substr(0, 200);
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

std::int64_t now_s() {
  return agent::now_ms() / 1000;
}

// The stored credential: null when there is none, a non-object when it is unreadable.
json read_credential(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  std::stringstream text;
  text << in.rdbuf();
  auto j = parse_json(text.str());
  return j ? *j : json("unreadable");
}

bool save_credential(const std::string& path, const json& j) {
  const std::string tmp = path + ".tmp";
  const std::string text = j.dump();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The highest event sequence the cloud says it holds, in an answer that carries one.
std::optional<std::int64_t> highest_seq_in(const json& j) {
  if (!j.is_object() || !j.contains("highest_seq") || !j["highest_seq"].is_number_integer())
    return std::nullopt;
  const auto h = j["highest_seq"].get<std::int64_t>();
  return h >= 0 ? std::optional(h) : std::nullopt;
}

}  // namespace

Expected<void, std::string> check_device_credential(const std::string& path,
                                                    const std::string& database_id) {
  json j = read_credential(path);
  if (!j.is_object() || !j.contains("device_token")) return {};  // none, or enrol again
  const std::string theirs = j.value("database_id", "");
  if (theirs == database_id) return {};
  if (theirs.empty()) {
    j["database_id"] = database_id;
    if (!save_credential(path, j)) return unexpected("cannot update the device credential " + path);
    log::info("sync", "device credential bound to this database", {{"database_id", database_id}});
    return {};
  }
  return unexpected(
      "the device credential " + path + " was enrolled with database " + theirs +
      ", but this database is " + database_id +
      " (started afresh or swapped): the store's database was lost or replaced, and serving "
      "would number events the cloud already holds. Restore the database from a backup, or "
      "move the credential aside to enrol again (sync.enrolment_code): fulfild then continues "
      "above the events the cloud holds and re-bases stock on a cloud snapshot.");
}

struct CloudLink::Impl : std::enable_shared_from_this<CloudLink::Impl> {
  Impl(asio::io_context& io, agent::Store& store, CloudLinkOptions o, std::function<json()> extra)
      : io(io),
        store(store),
        options(std::move(o)),
        heartbeat_extra(std::move(extra)),
        http(io, options.http),
        commands(store),
        feed_timer(io),
        upload_timer(io),
        heartbeat_timer(io),
        enrol_timer(io),
        ack_timer(io),
        feed_backoff(options.backoff_initial, options.backoff_max, std::random_device{}()),
        upload_backoff(options.backoff_initial, options.backoff_max, std::random_device{}()),
        enrol_backoff(options.backoff_initial, options.backoff_max, std::random_device{}()),
        batch_limit(options.batch_size),
        feed_limit(options.feed_page_size) {}

  asio::io_context& io;
  agent::Store& store;
  CloudLinkOptions options;
  std::function<json()> heartbeat_extra;
  HttpClient http;
  agent::CloudCommands commands;
  asio::steady_timer feed_timer, upload_timer, heartbeat_timer, enrol_timer, ack_timer;
  bool ack_timer_armed = false;
  bool record_after_send = false;  // record_sent()
  Backoff feed_backoff, upload_backoff, enrol_backoff;
  std::size_t batch_limit;
  std::size_t feed_limit;
  std::string token;
  LinkStatus status;
  bool stopped = false;
  bool uploading = false;
  bool upload_again = false;
  // The batch after the one in flight, read and compressed while the cloud works on that
  // one (the drain's SQLite and gzip overlap the cloud's time, not add to it).
  struct Batch {
    std::vector<agent::OutboxEvent> events;
    std::string body;
  };
  std::optional<Batch> next_batch;

  std::string store_url(const std::string& tail) const {
    return options.base_url + "/v1/stores/" + url_escape(options.store_id) + tail;
  }

  HttpRequest request(std::string method, std::string url) const {
    HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.timeout = options.request_timeout;
    r.headers.push_back({"Fulfil-Protocol", "1"});
    r.headers.push_back({"Accept", "application/json"});
    if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
    return r;
  }

  void note_failure(const char* what, const HttpResponse& r) {
    status.last_error = std::string(what) + ": " + describe(r);
    if (classify(r) == Recovery::re_enrol && !status.credential_revoked) {
      status.credential_revoked = true;
      log::error("sync",
                 "the cloud refused the device credential; syncing paused until it is "
                 "re-enrolled",
                 {{"request", what}});
    }
  }

  void succeeded() {
    status.last_sync_at = agent::now_ms();
    status.credential_revoked = false;
    status.last_error.clear();  // the link works again: an old error is no longer news
  }

  // --- where the cloud's events stand ----------------------------------------------

  // The cloud holds this store's events up to `highest` (or holds a number of an unsent
  // event under another id: `conflict`). See Outbox::continue_above.
  void cloud_holds(std::int64_t highest, bool conflict) {
    auto repair = store.outbox().continue_above(highest, conflict, agent::now_ms());
    if (!repair) {
      log::error("sync", "cannot renumber events above the cloud's",
                 {{"cloud_highest_seq", highest}, {"error", repair.error().message}});
      return;
    }
    if (!*repair) return;
    const auto& r = **repair;
    log::error("sync",
               "the cloud holds events this store no longer has: work committed here was "
               "lost (a restored or damaged database). Unsent events are numbered above the "
               "cloud's and stock is re-based on a cloud snapshot",
               {{"local_highest_seq", r.local_highest},
                {"cloud_highest_seq", r.cloud_highest},
                {"renumbered", r.renumbered},
                {"next_seq", r.next_seq}});
    if (auto asked = commands.request_snapshot("events_lost", agent::now_ms()); !asked)
      log::error("sync", "cannot record the snapshot request", {{"error", asked.error().message}});
    if (status.enrolled) heartbeat();  // the heartbeat carries the request
  }

  // --- enrolment -------------------------------------------------------------------

  bool load_credential() {
    const json j = read_credential(options.credential_path);
    if (j.is_null()) return false;
    if (!j.is_object() || !j.contains("device_token") || !j["device_token"].is_string()) {
      log::error("sync", "device credential file is unreadable; enrolling again",
                 {{"path", options.credential_path}});
      return false;
    }
    token = j["device_token"];
    return true;
  }

  void enrol() {
    if (stopped) return;
    if (options.enrolment_code.empty()) {
      status.last_error = "not enrolled and no sync.enrolment_code configured";
      log::error("sync", "cannot reach the cloud: no device credential and no enrolment code");
      return;
    }
    auto r = request("POST", options.base_url + "/v1/enrolments");
    r.headers.push_back({"Content-Type", "application/json"});
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    r.body = json{{"enrolment_code", options.enrolment_code},
                  {"store_id", options.store_id},
                  {"device", {{"hostname", host}, {"agent_version", options.agent_version}}}}
                 .dump();
    http.send(std::move(r), [self = shared_from_this()](HttpResponse resp) {
      self->on_enrolled(std::move(resp));
    });
  }

  void on_enrolled(HttpResponse resp) {
    if (stopped) return;
    const bool answered = classify(resp) == Recovery::proceed;
    json j = answered ? parse_json(resp.body).value_or(json()) : json();
    if (!answered || !j.is_object() || !j.contains("device_token") ||
        !j["device_token"].is_string()) {
      note_failure("enrolment", resp);
      const auto delay = enrol_backoff.next_delay();
      log::warn("sync", "enrolment failed",
                {{"error", status.last_error}, {"retry_in_ms", delay.count()}});
      enrol_timer.expires_after(delay);
      enrol_timer.async_wait([self = shared_from_this()](auto ec) {
        if (!ec) self->enrol();
      });
      return;
    }
    json credential = j;
    credential["database_id"] = options.database_id;
    if (!save_credential(options.credential_path, credential)) {
      log::error("sync", "cannot store the device credential", {{"path", options.credential_path}});
      return;
    }
    token = j["device_token"];
    log::info("sync", "enrolled", {{"device_id", j.value("device_id", "")}});
    // A store that enrols again (its database lost) learns here where its events stand.
    if (auto h = highest_seq_in(j)) cloud_holds(*h, false);
    run();
  }

  // --- feed ------------------------------------------------------------------------

  void poll_feed() {
    if (stopped) return;
    if (store.db().disk_full()) {
      // Commands would only fail to apply (and eat the disk guard's reserve): they wait.
      status.last_error = "feed paused: the local disk is full";
      feed_timer.expires_after(std::chrono::seconds(2));
      feed_timer.async_wait([self = shared_from_this()](auto ec) {
        if (!ec) self->poll_feed();
      });
      return;
    }
    const std::string cursor = commands.cursor();
    auto r = request("GET", store_url("/feed?limit=" + std::to_string(feed_limit) +
                                      "&wait=" + std::to_string(options.feed_wait.count()) +
                                      "&cursor=" + url_escape(cursor)));
    r.timeout = options.request_timeout + options.feed_wait;
    http.send(std::move(r),
              [self = shared_from_this()](HttpResponse resp) { self->on_feed(std::move(resp)); });
  }

  void retry_feed(const char* why, const HttpResponse& resp,
                  const char* message = "feed request failed") {
    note_failure(why, resp);
    ++status.feed_failures;
    const auto delay =
        feed_backoff.next_delay(parse_retry_after(resp.header("retry-after"), now_s()));
    log::warn("sync", message, {{"error", status.last_error}, {"retry_in_ms", delay.count()}});
    feed_timer.expires_after(delay);
    feed_timer.async_wait([self = shared_from_this()](auto ec) {
      if (!ec) self->poll_feed();
    });
  }

  void on_feed(HttpResponse resp) {
    if (stopped) return;
    if (resp.too_large && feed_limit > 1) {
      // A page over sync.max_response_bytes: ask for fewer commands at a time. A single
      // command that large cannot be skipped (cursors are opaque); it is retried with
      // backoff and reported until the cloud or the limit changes.
      feed_limit = std::max<std::size_t>(1, feed_limit / 2);
      log::warn("sync", "feed page too large; asking for fewer commands", {{"limit", feed_limit}});
      return poll_feed();
    }
    if (classify(resp) != Recovery::proceed) return retry_feed("feed", resp);
    feed_limit = options.feed_page_size;
    json page = parse_json(resp.body).value_or(json());
    if (!page.is_object() || !page.contains("commands") || !page["commands"].is_array() ||
        !page.contains("next_cursor") || !page["next_cursor"].is_string()) {
      HttpResponse bad = resp;
      bad.transport_error = "malformed feed page";
      return retry_feed("feed", bad);
    }
    crash_point("feed_received");
    if (store.db().disk_full()) return poll_feed();  // the page is fetched again later
    const std::string next_cursor = page["next_cursor"];
    bool any = false;
    for (const auto& item : page["commands"]) {
      auto cmd = agent::feed_command_from(item, next_cursor);
      auto result = commands.apply(cmd, agent::now_ms());
      if (!result) {
        // The cloud answered; this store could not record the command (the command itself
        // would have been rejected and recorded). It is fetched and applied again later.
        HttpResponse failed;
        failed.transport_error = "cannot apply command " + cmd.id + ": " + result.error().message;
        return retry_feed("feed", failed,
                          "cannot apply a feed command: the local database failed; it is "
                          "fetched again");
      }
      any = true;
      if (result->outcome == agent::CommandOutcome::applied) ++status.commands_applied;
      if (result->outcome == agent::CommandOutcome::rejected)
        log::warn("sync", "command rejected",
                  {{"command", cmd.id}, {"type", cmd.type}, {"reason", result->detail}});
      else
        log::debug("sync", "command",
                   {{"command", cmd.id}, {"outcome", agent::outcome_name(result->outcome)}});
    }
    if (!any && next_cursor != commands.cursor())
      if (auto moved = commands.advance_cursor(next_cursor); !moved)
        log::warn("sync", "cannot record the feed cursor", {{"error", moved.error().message}});
    status.feed_failures = 0;
    feed_backoff.reset();
    succeeded();
    if (any) outbox_changed();
    poll_feed();
  }

  // --- events ----------------------------------------------------------------------

  void outbox_changed() {
    if (stopped || token.empty()) return;
    if (uploading) {
      upload_again = true;
      return;
    }
    upload();
  }

  // Up to batch_limit pending events after `after_seq`, compressed; nothing when none wait.
  std::optional<Batch> read_batch(std::int64_t after_seq) {
    Batch b;
    b.events = store.outbox().pending(batch_limit, after_seq);
    if (b.events.empty()) return std::nullopt;
    auto body = gzip(batch_body(options.store_id, b.events));
    if (!body) {
      log::error("sync", "cannot compress an event batch", {{"error", body.error().message}});
      return std::nullopt;
    }
    b.body = std::move(*body);
    return b;
  }

  // The prefetched batch, if it is still the head of the queue: nothing renumbered, no dead
  // letter sent again below it, the batch size unchanged since it was read.
  std::optional<Batch> take_next_batch() {
    auto b = std::move(next_batch);
    next_batch.reset();
    if (!b || b->events.size() > batch_limit) return std::nullopt;
    const auto head = store.outbox().pending(1);
    if (head.empty() || head.front().seq != b->events.front().seq ||
        head.front().event_id != b->events.front().event_id)
      return std::nullopt;
    return b;
  }

  void upload() {
    auto batch = take_next_batch();
    if (!batch) batch = read_batch(0);
    if (!batch) {
      uploading = false;
      return;
    }
    uploading = true;
    upload_again = false;
    auto r = request("POST", store_url("/events"));
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Content-Encoding", "gzip"});
    r.body = std::move(batch->body);
    const std::int64_t last = batch->events.back().seq;
    http.send(std::move(r), [self = shared_from_this(), events = std::move(batch->events)](
                                HttpResponse resp) { self->on_uploaded(events, std::move(resp)); });
    // The request is on its way (HttpClient::send starts it): read the next batch meanwhile.
    // Only a head start: a read that fails here is made again when that batch is due.
    try {
      next_batch = read_batch(last);
    } catch (const agent::StorageFailure& e) {
      log::debug("sync", "cannot read ahead the next batch", {{"error", e.what()}});
    }
  }

  void retry_upload(const std::vector<agent::OutboxEvent>& events, const HttpResponse& resp) {
    note_failure("events", resp);
    ++status.upload_failures;
    try {
      // Bookkeeping (attempts, last error per event): a full disk must not stop the retry.
      store.outbox().record_failure(events.front().seq, events.back().seq, status.last_error);
    } catch (const agent::StorageFailure& e) {
      log::debug("sync", "cannot record the failed attempt", {{"error", e.what()}});
    }
    const auto delay =
        upload_backoff.next_delay(parse_retry_after(resp.header("retry-after"), now_s()));
    log::warn(
        "sync", "event upload failed",
        {{"error", status.last_error}, {"events", events.size()}, {"retry_in_ms", delay.count()}});
    upload_timer.expires_after(delay);
    upload_timer.async_wait([self = shared_from_this()](auto ec) {
      if (ec || self->stopped) return;
      self->upload();
    });
  }

  void on_uploaded(const std::vector<agent::OutboxEvent>& events, HttpResponse resp) {
    if (stopped) return;
    try {
      delivered(events, resp);
    } catch (const agent::StorageFailure& e) {
      // The cloud has the events; this store could not mark them. They go again (the cloud
      // acknowledges ids it has), once the database takes writes.
      HttpResponse local;
      local.transport_error = "cannot record the cloud's answer: " + storage_failure_message(e);
      retry_upload(events, local);
    }
  }

  // The cloud holds other numbers than this store sent: take its highest and renumber
  // what is unsent. False when the answer does not say where the cloud stands.
  bool renumbered(const std::vector<agent::OutboxEvent>& events, const HttpResponse& resp) {
    const auto highest = highest_seq_in(parse_json(resp.body).value_or(json()));
    if (!highest) return false;
    cloud_holds(*highest, true);
    const auto first = store.outbox().pending(1);
    if (!first.empty() && first.front().seq != events.front().seq) {
      upload();
      return true;
    }
    // Renumbering changed nothing: a cloud that says so again is not believed at once.
    HttpResponse stuck = resp;
    stuck.transport_error = "the cloud reports a sequence conflict above its own highest";
    retry_upload(events, stuck);
    return true;
  }

  void delivered(const std::vector<agent::OutboxEvent>& events, const HttpResponse& resp) {
    Recovery action = classify(resp, events.size());
    if (action == Recovery::renumber) {
      if (renumbered(events, resp)) return;
      // A conflict that does not say where the cloud stands: refused like any other batch.
      action = events.size() > 1 ? Recovery::halve_batch : Recovery::dead_letter;
    }
    switch (action) {
      case Recovery::proceed:
        break;
      case Recovery::halve_batch:
        // The cloud refuses the batch as such: find the event at fault by halving.
        batch_limit = std::max<std::size_t>(1, events.size() / 2);
        return upload();
      case Recovery::dead_letter:
        store.outbox().mark_dead(events.front().event_id, describe(resp));
        log::error("sync", "event refused by the cloud; moved to dead letters",
                   {{"event", events.front().event_id}, {"error", describe(resp)}});
        return upload();
      case Recovery::retry:
      case Recovery::renumber:
      case Recovery::re_enrol:
      case Recovery::fatal:
        return retry_upload(events, resp);
    }
    json ack = parse_json(resp.body).value_or(json());
    if (!ack.is_object() || !ack.contains("acknowledged") || !ack["acknowledged"].is_array()) {
      HttpResponse bad = resp;
      bad.transport_error = "malformed acknowledgement";
      return retry_upload(events, bad);
    }
    crash_point("batch_acknowledged");
    std::vector<std::string> ids;
    for (const auto& id : ack["acknowledged"])
      if (id.is_string()) ids.push_back(id);
    record_sent(events, ids);
    if (ack.contains("rejected") && ack["rejected"].is_array())
      for (const auto& r : ack["rejected"])
        if (r.is_object() && r.contains("id") && r["id"].is_string()) {
          const std::string reason = r.value("reason", "rejected by the cloud");
          store.outbox().mark_dead(r["id"], reason);
          log::error("sync", "event rejected by the cloud; moved to dead letters",
                     {{"event", r["id"].get<std::string>()}, {"reason", reason}});
        }
    status.events_sent += static_cast<std::int64_t>(ids.size());
    status.upload_failures = 0;
    upload_backoff.reset();
    batch_limit = options.batch_size;
    succeeded();
    // A cloud that holds no more than this batch reached is not ahead: nothing to check.
    if (auto highest = highest_seq_in(ack); highest && *highest > events.back().seq)
      cloud_holds(*highest, false);
    if (ids.empty() && !(ack.contains("rejected") && !ack["rejected"].empty())) {
      // Nothing acknowledged: treat as a failure rather than spin on the same batch.
      HttpResponse none = resp;
      none.transport_error = "the cloud acknowledged none of the batch";
      return retry_upload(events, none);
    }
    upload();
    if (std::exchange(record_after_send, false)) record_acknowledged();
  }

  // The acknowledged events leave the queue at once (held in memory: Outbox::
  // acknowledge_later) and are written later: a small batch's by the next local change (no
  // commit of its own), a drain's batch right after the next batch is on its way, so the
  // write overlaps the cloud's work instead of adding to it. Ids the batch does not
  // explain are written at once.
  void record_sent(const std::vector<agent::OutboxEvent>& events,
                   const std::vector<std::string>& ids) {
    const auto now = agent::now_ms();
    std::vector<std::int64_t> seqs;
    for (const auto& id : ids) {
      auto e = std::find_if(events.begin(), events.end(),
                            [&](const agent::OutboxEvent& x) { return x.event_id == id; });
      if (e == events.end()) {
        store.outbox().record_acknowledged();
        return store.outbox().mark_sent(ids, now);
      }
      seqs.push_back(e->seq);
    }
    store.outbox().acknowledge_later(seqs, now);
    if (options.ack_record_delay.count() <= 0 ||
        store.outbox().acknowledgements_held() > kAckLaterAtMost) {
      record_after_send = true;
      return;
    }
    arm_ack_timer(options.ack_record_delay);
  }

  void arm_ack_timer(std::chrono::milliseconds after) {
    if (ack_timer_armed) return;
    ack_timer_armed = true;
    ack_timer.expires_after(after);
    ack_timer.async_wait([self = shared_from_this()](auto ec) {
      self->ack_timer_armed = false;
      if (!ec) self->record_acknowledged();
    });
  }

  // A write that fails (a full disk) is tried again: until then the events stay out of the
  // queue, as the cloud has them.
  void record_acknowledged() {
    try {
      store.outbox().record_acknowledged();
    } catch (const agent::StorageFailure& e) {
      log::warn("sync", "cannot record acknowledged events yet", {{"error", e.what()}});
      if (!stopped)
        arm_ack_timer(
            std::max<std::chrono::milliseconds>(options.ack_record_delay, std::chrono::seconds(1)));
    }
  }

  static constexpr std::size_t kAckLaterAtMost = 50;

  // --- heartbeat -------------------------------------------------------------------

  void heartbeat() {
    if (stopped) return;
    const auto stats = store.outbox().stats();
    const std::int64_t now = agent::now_ms();
    json body = {{"agent_version", options.agent_version},
                 {"outbox",
                  {{"pending", stats.pending},
                   {"dead", stats.dead},
                   {"oldest_pending_age_s",
                    stats.oldest_pending_at ? (now - stats.oldest_pending_at) / 1000 : 0}}},
                 {"last_sync_at", status.last_sync_at},
                 {"last_seq", stats.last_seq}};
    if (auto asked = commands.snapshot_requested(); !asked.is_null())
      body["snapshot_requested"] = asked;
    if (heartbeat_extra) body.update(heartbeat_extra());
    auto r = request("POST", store_url("/heartbeat"));
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = body.dump();
    http.send(
        std::move(r), [self = shared_from_this(), last_seq = stats.last_seq](HttpResponse resp) {
          if (self->stopped) return;
          if (classify(resp) != Recovery::proceed) return self->note_failure("heartbeat", resp);
          self->succeeded();
          // Checked only when the cloud holds more than this store had numbered at the
          // heartbeat: otherwise it cannot be ahead (and the check is a write transaction).
          if (auto h = highest_seq_in(parse_json(resp.body).value_or(json())); h && *h > last_seq) {
            try {
              self->cloud_holds(*h, false);
            } catch (const agent::StorageFailure& e) {
              log::error("sync", "cannot check the cloud's events", {{"error", e.what()}});
            }
          }
        });
    heartbeat_timer.expires_after(options.heartbeat_every);
    heartbeat_timer.async_wait([self = shared_from_this()](auto ec) {
      if (!ec) self->heartbeat();
    });
  }

  void run() {
    status.enrolled = true;
    poll_feed();
    upload();
    heartbeat();
  }
};

CloudLink::CloudLink(asio::io_context& io, agent::Store& store, CloudLinkOptions options,
                     std::function<json()> heartbeat_extra)
    : impl_(std::make_shared<Impl>(io, store, std::move(options), std::move(heartbeat_extra))) {}

CloudLink::~CloudLink() {
  stop();
}

void CloudLink::start() {
  impl_->stopped = false;
  if (impl_->load_credential())
    impl_->run();
  else
    impl_->enrol();
}

void CloudLink::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http.cancel_all();
  for (auto* t : {&impl_->feed_timer, &impl_->upload_timer, &impl_->heartbeat_timer,
                  &impl_->enrol_timer, &impl_->ack_timer})
    t->cancel();
  impl_->record_acknowledged();  // what the cloud has is recorded before the link stops
}

void CloudLink::outbox_changed() {
  impl_->outbox_changed();
}

const LinkStatus& CloudLink::status() const {
  return impl_->status;
}

void CloudLink::retune(const CloudLinkOptions& o) {
  auto& i = *impl_;
  i.options.batch_size = o.batch_size;
  i.options.feed_wait = o.feed_wait;
  i.options.heartbeat_every = o.heartbeat_every;
  i.options.request_timeout = o.request_timeout;
  i.options.backoff_initial = o.backoff_initial;
  i.options.backoff_max = o.backoff_max;
  i.batch_limit = o.batch_size;
  for (auto* b : {&i.feed_backoff, &i.upload_backoff, &i.enrol_backoff})
    *b = Backoff(o.backoff_initial, o.backoff_max, std::random_device{}());
}

void CloudLink::heartbeat_now() {
  if (!impl_->stopped && impl_->status.enrolled) impl_->heartbeat();
}

}  // namespace fulfil::sync
