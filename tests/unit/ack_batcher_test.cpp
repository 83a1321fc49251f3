#define CAF_SUITE ack_batcher
#include <rill/actors/reader/ack_batcher.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill::detail;
using next = ack_batcher::next;

CAF_TEST(the first ack arms the timer and a full batch flushes at once) {
  ack_batcher b{3};
  CAF_CHECK(b.add("1-1") == next::arm_timer);
  CAF_CHECK(b.armed());
  CAF_CHECK(b.add("2-1") == next::nothing);
  CAF_CHECK(b.add("3-1") == next::flush_now);
  auto batch = b.take();
  CAF_REQUIRE(batch != nullptr);
  CAF_CHECK_EQUAL(batch->size(), 3u);
  CAF_CHECK_EQUAL(b.pending(), 0u);
  CAF_CHECK_EQUAL(b.unflushed(), 3u); // in flight until Redis confirms
  CAF_CHECK(b.holds("2-1"));
  CAF_CHECK(!b.settled());
  b.confirmed(batch);
  CAF_CHECK(b.settled());
  CAF_CHECK(!b.holds("2-1"));
  CAF_CHECK(b.take() == nullptr); // nothing to send
}

CAF_TEST(a failed XACK puts its IDs back in front and asks for one timer) {
  ack_batcher b{100};
  b.add("1-1");
  b.timer_fired();
  auto first = b.take();
  b.add("2-1"); // arms the timer again
  CAF_CHECK(b.armed());
  CAF_CHECK(!b.failed(first)); // a timer is armed already
  CAF_CHECK_EQUAL(b.pending(), 2u);
  CAF_CHECK_EQUAL(b.batches_in_flight(), 0u);
  b.timer_fired();
  auto again = b.take();
  CAF_REQUIRE(again != nullptr);
  CAF_CHECK_EQUAL(*again, (std::vector<std::string>{"1-1", "2-1"})); // order kept
  CAF_CHECK(b.failed(again)); // no timer armed: the reader must arm one
  CAF_CHECK(b.armed());
  CAF_CHECK_EQUAL(b.unflushed(), 2u);
}

CAF_TEST(two batches in flight are confirmed independently) {
  ack_batcher b{1};
  CAF_CHECK(b.add("1-1") == next::flush_now);
  auto x = b.take();
  CAF_CHECK(b.add("2-1") == next::flush_now);
  auto y = b.take();
  CAF_CHECK_EQUAL(b.batches_in_flight(), 2u);
  b.confirmed(y);
  CAF_CHECK(b.holds("1-1"));
  CAF_CHECK(!b.holds("2-1"));
  b.confirmed(x);
  CAF_CHECK(b.settled());
}
