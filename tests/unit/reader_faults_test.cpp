#define CAF_SUITE reader_faults
// Regression tests for defects a hostile test run found in the reader and its
// workers (one test per defect, named after what must hold now).
#include "reader_fixture.hpp"

using namespace rill;
using namespace rill::testing;

namespace {

/// Entries 0..n-1 where the first `poison` have no seq field.
void fill_with_poison(fake_stream& data, uint64_t poison, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    auto e = make_entry(i);
    if (i < poison)
      e.fields = {"junk", "x"};
    data.fresh.push_back(std::move(e));
  }
}

caf::error needs_seq(const stream_entry& e) {
  if (e.find("seq") == nullptr)
    return fail_permanently("no seq field");
  return caf::none;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(reader_fault_tests, fixture)

CAF_TEST(dead letters that cannot be written free their worker) {
  fill_with_poison(*data, 4, 24);
  data->dead_error = "WRONGTYPE Operation against a key holding the wrong kind of value";
  callbacks->add(needs_seq);
  callbacks->add(record(2));
  start(options(4)); // four workers, four poison entries first
  flush();
  // Every good entry behind the poison ones ran and was acked.
  CAF_CHECK_EQUAL(ran.size(), 20u);
  CAF_CHECK_EQUAL(data->acked.size(), 20u);
  CAF_CHECK_EQUAL(metrics->dead_lettered.load(), 0u);
  CAF_CHECK_GREATER_OR_EQUAL(metrics->dead_letter_failures.load(), 4u);
  // The dead-letter key is fixed: the next attempt fetches the entries again
  // (XCLAIM, they were still pending) and writes them.
  data->dead_error.clear();
  for (int i = 0; i < 4; ++i) {
    advance_time(std::chrono::seconds{1});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->dead.size(), 4u);
  CAF_CHECK_EQUAL(metrics->dead_lettered.load(), 4u);
  CAF_CHECK_EQUAL(data->acked.size(), 24u);
}

CAF_TEST_FIXTURE_SCOPE_END()
