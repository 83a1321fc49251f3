#define CAF_SUITE slot_table
#include <rill/actors/reader/slot_table.hpp>

#include <caf/test/dsl.hpp>

using namespace rill::detail;

namespace {

caf::behavior idle_actor() {
  return {[](int) {
  }};
}

struct fixture : test_coordinator_fixture<> {
  caf::actor spawn_worker() { return sys.spawn(idle_actor); }
  steady::time_point t0 = steady::time_point{} + std::chrono::seconds{1};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(slot_table_tests, fixture)

CAF_TEST(acquire takes the most recently idle slot and release returns it) {
  slot_table t;
  auto a = t.add(spawn_worker(), {});
  auto b = t.add(spawn_worker(), {});
  CAF_CHECK_EQUAL(t.idle(), 2u);
  auto first = t.acquire("1-1", t0);
  CAF_CHECK_EQUAL(first, b); // warm worker first
  CAF_CHECK_EQUAL(t.busy(), 1u);
  CAF_CHECK(t.holds("1-1"));
  CAF_CHECK(t[first].state == slot_state::busy);
  CAF_CHECK(t.holding(first, "1-1") != nullptr);
  CAF_CHECK(t.holding(first, "9-9") == nullptr); // stale ack: another ID
  CAF_CHECK(t.holding(a, "1-1") == nullptr);     // stale ack: idle slot
  CAF_CHECK(t.holding(7, "1-1") == nullptr);     // no such slot
  CAF_CHECK(t.release(first));
  CAF_CHECK_EQUAL(t.busy(), 0u);
  CAF_CHECK_EQUAL(t.idle(), 2u);
  CAF_CHECK(!t.holds("1-1"));
  CAF_CHECK(t.holding(first, "1-1") == nullptr); // a second ack is stale
}

CAF_TEST(free_workers is the one capacity formula) {
  slot_table t;
  for (int i = 0; i < 4; ++i)
    t.add(spawn_worker(), {});
  t.acquire("1-1", t0);
  CAF_CHECK_EQUAL(t.free_workers(0), 3u);
  CAF_CHECK_EQUAL(t.free_workers(2), 1u);
  CAF_CHECK_EQUAL(t.free_workers(3), 0u);
  CAF_CHECK_EQUAL(t.free_workers(10), 0u); // never negative
}

CAF_TEST(withdrawn idle workers are gone and busy ones retire after their entry) {
  slot_table t;
  auto relay = spawn_worker();
  auto other = spawn_worker();
  auto r1 = t.add(spawn_worker(), relay);
  t.add(spawn_worker(), relay);
  t.add(spawn_worker(), other);
  // The slot added last is taken first; take the relay's r1 explicitly by
  // taking two entries (other's slot, then the relay's second slot).
  auto x = t.acquire("1-1", t0);
  CAF_CHECK(t[x].relay == other);
  auto y = t.acquire("2-1", t0);
  CAF_CHECK(t[y].relay == relay);
  CAF_CHECK(t.relay_busy(relay.address()));
  CAF_CHECK_EQUAL(t.withdraw(relay.address()), 2u);
  CAF_CHECK(t[r1].state == slot_state::gone); // was idle
  CAF_CHECK(t[y].state == slot_state::retiring);
  CAF_CHECK_EQUAL(t.idle(), 0u); // r1 left the idle list
  CAF_CHECK(t.relay_busy(relay.address()));
  CAF_CHECK(!t.release(y)); // retired, not idle again
  CAF_CHECK(t[y].state == slot_state::gone);
  CAF_CHECK(!t.relay_busy(relay.address()));
  CAF_CHECK_EQUAL(t.idle(), 0u);
  CAF_CHECK(t.release(x)); // the other relay's worker is idle again
  CAF_CHECK_EQUAL(t.idle(), 1u);
  CAF_CHECK_EQUAL(t.withdraw(relay.address()), 0u); // nothing left to withdraw
}

CAF_TEST(a worker down hands back the ID it held and leaves the idle list) {
  slot_table t;
  auto w1 = spawn_worker();
  auto w2 = spawn_worker();
  t.add(w1, {});
  auto s2 = t.add(w2, {});
  CAF_CHECK_EQUAL(t.acquire("5-1", t0), s2);
  auto held = t.worker_down(w2.address());
  CAF_REQUIRE_EQUAL(held.size(), 1u);
  CAF_CHECK_EQUAL(held[0], "5-1");
  CAF_CHECK_EQUAL(t.busy(), 0u);
  CAF_CHECK(!t.holds("5-1"));
  held = t.worker_down(w1.address()); // idle: nothing to redeliver
  CAF_REQUIRE_EQUAL(held.size(), 1u);
  CAF_CHECK(held[0].empty());
  CAF_CHECK_EQUAL(t.idle(), 0u);
  CAF_CHECK(t.worker_down(w1.address()).empty()); // a second down: no slot left
  CAF_CHECK(t.holding(s2, "5-1") == nullptr);     // its late ack is stale
}

CAF_TEST_FIXTURE_SCOPE_END()
