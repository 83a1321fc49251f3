#define CAF_SUITE message_flow
#include "reader_fixture.hpp"

// The core message flow of docs/architecture.md, message by message, with
// CAF's expect/disallow: read reply -> delivery -> ack -> next read, and the
// XACK only once the ack delay has passed.

using namespace rill;
using namespace rill::testing;

CAF_TEST_FIXTURE_SCOPE(message_flow_tests, fixture)

CAF_TEST(one entry goes read reply to delivery to ack to XACK) {
  callbacks->add(record(1));
  start(options(1)); // live, its `>` read held by the fake until an entry comes
  CAF_REQUIRE_EQUAL(workers.size(), 1u);
  auto worker = workers.front();
  data->fresh.push_back(make_entry(0));
  caf::anon_send(conn, push_atom::value);
  expect((push_atom), to(conn));
  // The held XREADGROUP is answered; the reader hands the entry to its one
  // idle worker and reads nothing more (no credit left).
  expect((redis_reply), from(conn).to(reader));
  expect((delivery), from(reader).to(worker));
  disallow((redis_command), from(reader).to(conn));
  // The worker runs the callback and acks: the credit is back, so the reader
  // reads again at once; the XACK waits for the ack delay.
  expect((ack_atom, uint32_t, std::string), from(worker).to(reader));
  expect((redis_command), from(reader).to(conn));
  disallow((redis_command), from(reader).to(conn));
  CAF_CHECK(data->acked.empty());
  advance_time(std::chrono::milliseconds{1});
  expect((flush_atom), from(reader).to(reader));
  expect((redis_command), from(reader).to(conn));
  consume_messages();
  CAF_CHECK_EQUAL(data->acked, std::vector<std::string>{make_entry(0).id});
  CAF_CHECK_EQUAL(ran.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
