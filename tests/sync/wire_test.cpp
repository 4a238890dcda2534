// The cloud protocol's wire form: event batches through gzip (bombs and damage refused),
// and the link's backoff with the cloud's Retry-After.
#include <doctest/doctest.h>

#include "sync/backoff.hpp"
#include "sync/event_batch.hpp"
#include "sync/wire.hpp"

TEST_CASE("event batches round-trip through gzip; bombs and damage are refused") {
  fulfil::agent::OutboxEvent e;
  e.seq = 7;
  e.event_id = "0b6d3c3e-1111-4c2a-9e4f-000000000001";
  e.type = "order.accepted";
  e.subject = "FO-1";
  e.payload = R"({"order_id":"FO-1"})";
  const std::string plain = fulfil::sync::batch_body("store-1", {e});
  auto packed = fulfil::sync::gzip(plain);
  REQUIRE(packed.has_value());
  CHECK(static_cast<unsigned char>((*packed)[0]) == 0x1f);  // gzip magic
  auto unpacked = fulfil::sync::gunzip(*packed, 1 << 20);
  REQUIRE(unpacked.has_value());
  CHECK(*unpacked == plain);
  auto j = nlohmann::json::parse(*unpacked);
  CHECK(j["protocol"] == 1);
  CHECK(j["events"][0]["seq"] == 7);
  CHECK(j["events"][0]["payload"]["order_id"] == "FO-1");
  CHECK(j["store_id"] == "store-1");

  auto bomb = fulfil::sync::gzip(std::string(10 << 20, '\0'));
  REQUIRE(bomb.has_value());
  CHECK(bomb->size() < 100000);
  auto refused = fulfil::sync::gunzip(*bomb, 1 << 20);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("inflates beyond") != std::string::npos);
  CHECK_FALSE(fulfil::sync::gunzip(packed->substr(0, packed->size() / 2), 1 << 20).has_value());
  std::string corrupt = *packed;
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0x55);
  CHECK_FALSE(fulfil::sync::gunzip(corrupt, 1 << 20).has_value());
}

TEST_CASE("Retry-After in seconds or as an HTTP date; backoff grows, is capped, honours it") {
  using fulfil::sync::parse_retry_after;
  using std::chrono::milliseconds;
  CHECK(parse_retry_after("3", 0) == milliseconds(3000));
  // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == milliseconds(10000));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("soon", 0).has_value());
  CHECK_FALSE(parse_retry_after("", 0).has_value());

  fulfil::sync::Backoff b(milliseconds(100), milliseconds(1000), 7);
  milliseconds longest{0};
  for (int i = 0; i < 50; ++i) longest = std::max(longest, b.next_delay());
  CHECK(longest <= milliseconds(1000));
  CHECK(longest > milliseconds(400));  // it grew well past the initial delay
  CHECK(b.next_delay(milliseconds(900)) >= milliseconds(900));
  CHECK(b.next_delay(milliseconds(60000)) == milliseconds(1000));  // capped even then
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.next_delay() <= milliseconds(100));
}
