// The print queue's and remote configurations' lifecycles: each change leaves only the
// states its row names, so a late report about a job that has moved on changes nothing,
// only a queued job is cancelled, and a configuration decision out of turn is refused.
#include <doctest/doctest.h>

#include <stdexcept>

#include "domain/print_jobs.hpp"
#include "domain/remote_configs.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;

namespace {
PrintJob queued_job(fulfil::test::TestStore& store) {
  auto job = store->print_jobs().enqueue(
      {"packing_slip", "", "desk-1", "desk-printer", "pdf", "%PDF-1.4 test", 1, std::nullopt},
      ctx());
  REQUIRE(job.has_value());
  REQUIRE(job->state == PrintJobState::queued);
  return *job;
}

PrintJobState state_of(fulfil::test::TestStore& store, std::int64_t id) {
  return store->print_jobs().find(id)->state;
}
}  // namespace

TEST_CASE("a print job moves only along its lifecycle") {
  auto store = fulfil::test::open_test_store();
  auto& jobs = store->print_jobs();
  const auto job = queued_job(store);

  // Nothing but sending leaves queued (a retry or a failure needs a job in flight).
  CHECK_FALSE(jobs.mark_submitted(job.id, 7, 1));
  CHECK_FALSE(jobs.mark_printed(job.id, 1));
  CHECK_FALSE(jobs.mark_retry(job.id, "late", 1));
  CHECK_FALSE(jobs.mark_failed(job.id, "late", 1));
  CHECK(state_of(store, job.id) == PrintJobState::queued);

  CHECK(jobs.mark_sending(job.id, 2));
  CHECK_FALSE(jobs.mark_sending(job.id, 2));  // sent once per attempt
  CHECK(jobs.mark_submitted(job.id, 42, 3));
  CHECK(jobs.mark_printed(job.id, 4));
  CHECK(state_of(store, job.id) == PrintJobState::printed);

  // A printed job stays printed, whatever arrives late.
  CHECK_FALSE(jobs.mark_retry(job.id, "late", 5));
  CHECK_FALSE(jobs.mark_failed(job.id, "late", 5));
  CHECK_FALSE(jobs.mark_sending(job.id, 5));
  const auto printed = jobs.find(job.id);
  CHECK(printed->state == PrintJobState::printed);
  CHECK(printed->attempts == 1);
  CHECK(printed->external_id == 42);
}

TEST_CASE("only a queued print job is cancelled, and a cancelled one is never sent") {
  auto store = fulfil::test::open_test_store();
  auto& jobs = store->print_jobs();
  const auto job = queued_job(store);
  REQUIRE(jobs.cancel(job.id, ctx()).has_value());
  CHECK(state_of(store, job.id) == PrintJobState::cancelled);
  CHECK_FALSE(jobs.mark_sending(job.id, 2));
  CHECK_FALSE(jobs.mark_printed(job.id, 2));
  CHECK(state_of(store, job.id) == PrintJobState::cancelled);

  const auto other = queued_job(store);
  REQUIRE(jobs.mark_sending(other.id, 3));
  auto refused = jobs.cancel(other.id, ctx());
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == DomainErrc::illegal_transition);
  CHECK(refused.error().message.find("only a queued job") != std::string::npos);
  CHECK(state_of(store, other.id) == PrintJobState::sending);
}

TEST_CASE("a remote configuration moves only along its lifecycle") {
  auto store = fulfil::test::open_test_store();
  auto& configs = store->remote_configs();
  const nlohmann::json settings = {{"log", {{"level", "debug"}}}};
  configs.receive("cmd-1", {{"document", "{}"}}, 1);
  const auto first = configs.next_received();
  REQUIRE(first.has_value());
  CHECK(first->state == RemoteConfigState::received);
  // Activating or rolling back what is not on trial is a bug: refused, nothing changes.
  CHECK_THROWS_AS(configs.activate(first->id, 2), std::logic_error);
  CHECK_THROWS_AS(configs.roll_back(first->id, "no", nlohmann::json::array(), 2), std::logic_error);
  CHECK(configs.next_received()->state == RemoteConfigState::received);

  configs.start_trial(first->id, 1, "key-1", settings, 3);
  CHECK(configs.trying()->id == first->id);
  configs.activate(first->id, 4);
  CHECK(configs.active()->version == 1);
  CHECK_THROWS_AS(configs.start_trial(first->id, 1, "key-1", settings, 5), std::logic_error);
  CHECK_THROWS_AS(configs.refuse(first->id, 1, "stale_version", "again", 5), std::logic_error);
  CHECK(configs.active()->state == RemoteConfigState::active);

  configs.receive("cmd-2", {{"document", "{}"}}, 6);
  const auto second = configs.next_received();
  configs.start_trial(second->id, 2, "key-1", settings, 7);
  configs.activate(second->id, 8);
  const auto history = configs.history(10);
  REQUIRE(history.size() == 2);
  CHECK(history[0].state == RemoteConfigState::active);
  CHECK(history[1].state == RemoteConfigState::superseded);
  CHECK(history[1].to_json()["state"] == "superseded");
}
