#define CAF_SUITE read_planner
#include <rill/actors/reader/read_planner.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill::detail;

namespace {

read_plan none{0, 0};

} // namespace

CAF_TEST(no reads before the group is set up) {
  read_planner p;
  CAF_CHECK(p.plan(8, 0, 8) == none);
}

CAF_TEST(a quiet live reader splits its credits over two pipelined reads) {
  read_planner p;
  p.enter(read_phase::live);
  CAF_CHECK(p.plan(8, 0, 8) == (read_plan{4, 4}));
  CAF_CHECK(p.plan(7, 0, 8) == (read_plan{4, 3}));
  CAF_CHECK(p.plan(1, 0, 8) == (read_plan{1, 0}));
  p.started(4);
  p.started(4);
  CAF_CHECK_EQUAL(p.reserved(), 8u);
  CAF_CHECK(p.plan(8, 0, 8) == none); // two reads in flight at most
  p.settled(4);
  CAF_CHECK_EQUAL(p.outstanding(), 1u);
  CAF_CHECK_EQUAL(p.reserved(), 4u);
}

CAF_TEST(under load a read waits for half the workers) {
  read_planner p;
  p.enter(read_phase::live);
  CAF_CHECK(p.plan(3, 5, 8) == none);              // 3 < 8 / 2
  CAF_CHECK(p.plan(4, 4, 8) == (read_plan{4, 0})); // whole, one round trip
  CAF_CHECK(p.plan(1, 0, 1) == (read_plan{1, 0})); // one worker: 1 is half
}

CAF_TEST(the own pending list is read by one read at a time behind a forward cursor) {
  read_planner p;
  p.enter(read_phase::backlog);
  CAF_CHECK(p.plan(8, 0, 8) == (read_plan{8, 0}));
  p.started(8);
  CAF_CHECK(p.plan(8, 0, 8) == none);
  CAF_CHECK_EQUAL(p.cursor(), "0");
  p.advance("5-3");
  p.advance("5-1"); // never backwards
  CAF_CHECK_EQUAL(p.cursor(), "5-3");
  p.advance("10-0"); // numeric, not text order
  CAF_CHECK_EQUAL(p.cursor(), "10-0");
}

CAF_TEST(a limit caps the reads and the reserved credits count against it) {
  read_planner p{10};
  p.enter(read_phase::live);
  p.count(6);
  CAF_CHECK(p.plan(8, 0, 8) == (read_plan{2, 2}));
  p.reserve(3); // a claim in flight may return 3 more: 1 left to read
  CAF_CHECK(p.plan(8, 0, 8) == (read_plan{1, 0}));
  p.unreserve(3);
  p.count(4);
  CAF_CHECK(p.limit_reached());
  CAF_CHECK(p.plan(8, 0, 8) == none);
}
