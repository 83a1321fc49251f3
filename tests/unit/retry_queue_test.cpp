#define CAF_SUITE retry_queue
#include <rill/actors/reader/retry_queue.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill;
using namespace rill::detail;
using namespace std::chrono_literals;

namespace {

stream_entry entry(std::string id, uint32_t deliveries = 1) {
  stream_entry e;
  e.id = std::move(id);
  e.deliveries = deliveries;
  return e;
}

const steady::time_point t0 = steady::time_point{} + 1s;

} // namespace

CAF_TEST(only due entries are taken and only as many as there is room for) {
  retry_queue q;
  q.schedule(entry("1-1"), t0 + 100ms);
  q.schedule(entry("2-1"), t0);
  q.schedule(entry("3-1"), t0);
  CAF_CHECK(q.take_due(t0 - 1ms, 10).empty());
  auto due = q.take_due(t0, 1);
  CAF_REQUIRE_EQUAL(due.size(), 1u);
  CAF_CHECK_EQUAL(due[0].entry.id, "2-1");
  CAF_CHECK_EQUAL(q.retries(), 2u);
  CAF_CHECK(q.holds("1-1"));
  CAF_CHECK(!q.holds("2-1"));
  due = q.take_due(t0 + 1s, 10);
  CAF_CHECK_EQUAL(due.size(), 2u);
  CAF_CHECK(q.empty());
}

CAF_TEST(the timer is armed for the earliest entry and not twice) {
  retry_queue q;
  CAF_CHECK(!q.arm(t0)); // nothing to wait for
  q.schedule(entry("1-1"), t0 + 500ms);
  auto d = q.arm(t0);
  CAF_REQUIRE(d);
  CAF_CHECK(*d == 500ms);
  q.schedule(entry("2-1"), t0 + 800ms);
  CAF_CHECK(!q.arm(t0)); // the armed timer fires earlier
  q.schedule(entry("3-1"), t0 + 100ms);
  d = q.arm(t0);
  CAF_REQUIRE(d); // an earlier entry: another timer
  CAF_CHECK(*d == 100ms);
  q.timer_fired();
  d = q.arm(t0 + 200ms); // overdue: fire at once
  CAF_REQUIRE(d);
  CAF_CHECK(*d == 0ms);
}

CAF_TEST(dead letters wait by ID and leave in batches) {
  retry_queue q;
  for (int i = 0; i < 20; ++i)
    q.dead_failed(dead_item{std::to_string(i) + "-0", "poison"});
  CAF_CHECK(q.holds("7-0"));
  CAF_CHECK(!q.empty());
  auto first = q.take_dead(16);
  CAF_CHECK_EQUAL(first.size(), 16u);
  CAF_CHECK_EQUAL(first.front().id, "0-0");
  CAF_CHECK_EQUAL(q.dead(), 4u);
  std::vector<std::string> ids;
  q.schedule(entry("99-0"), t0);
  q.append_ids(ids); // leases are renewed for all of them
  CAF_CHECK_EQUAL(ids.size(), 5u);
  CAF_CHECK_EQUAL(q.take_dead(16).size(), 4u);
}
