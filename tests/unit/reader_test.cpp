#define CAF_SUITE reader
#include "reader_fixture.hpp"

using namespace rill;
using namespace rill::testing;

CAF_TEST_FIXTURE_SCOPE(reader_tests, fixture)

CAF_TEST(reads only as many entries as it has idle workers) {
  fill(20);
  callbacks->add_async(hold());
  start(options(4));
  // Four workers, all busy with held callbacks: exactly four entries read.
  CAF_CHECK_EQUAL(data->handed_out, 4u);
  CAF_CHECK_EQUAL(held.size(), 4u);
  for (const auto& cmd : data->commands("XREADGROUP"))
    CAF_CHECK_LESS_OR_EQUAL(std::stoull(cmd.argv[5]), 4u);
  // Finishing two frees two credits: two more entries, not more.
  held[0]();
  held[1]();
  consume_messages();
  CAF_CHECK_EQUAL(data->handed_out, 6u);
  CAF_CHECK_EQUAL(metrics->in_flight.load(), 4u);
  CAF_CHECK_EQUAL(metrics->max_in_flight_seen.load(), 4u);
  // Release everything, one at a time, until the stream is drained.
  release_from(2);
  flush();
  CAF_CHECK_EQUAL(data->handed_out, 20u);
  CAF_CHECK_EQUAL(data->acked.size(), 20u);
  CAF_CHECK_EQUAL(metrics->max_in_flight_seen.load(), 4u);
}

CAF_TEST(callbacks run in registration order and the ack follows the last) {
  fill(3);
  callbacks->add(record(1));
  callbacks->add_async(hold()); // callback 2, asynchronous
  callbacks->add(record(3));
  start(options(1));
  // One worker: entry 0 ran callback 1, then callback 2 started and holds it.
  CAF_REQUIRE_EQUAL(ran.size(), 2u);
  CAF_CHECK_EQUAL(ran[0], std::make_pair(std::string{"1000-0"}, 1));
  CAF_CHECK_EQUAL(ran[1], std::make_pair(std::string{"1000-0"}, 0));
  flush();
  CAF_CHECK(data->acked.empty()); // not acked while callback 2 runs
  CAF_CHECK_EQUAL(metrics->processed.load(), 0u);
  for (size_t i = 0; i < 3; ++i) {
    held.at(i)();
    consume_messages();
  }
  flush();
  std::vector<std::pair<std::string, int>> expected;
  for (auto id : {"1000-0", "1001-0", "1002-0"})
    for (int n : {1, 0, 3})
      expected.emplace_back(id, n);
  CAF_CHECK_EQUAL(ran, expected);
  CAF_CHECK_EQUAL(data->acked, (std::vector<std::string>{"1000-0", "1001-0", "1002-0"}));
}

CAF_TEST(a failing callback nacks and its entry is never acked) {
  fill(6);
  callbacks->add([](const stream_entry& e) -> caf::error {
    auto seq = std::stoi(*e.find("seq"));
    if (seq == 1)
      return make_error(sec::invalid_argument, "bad entry");
    if (seq == 4)
      throw std::runtime_error("boom");
    return caf::none;
  });
  callbacks->add(record(2));
  auto opts = options(2);
  opts.max_deliveries = 1; // no retries: straight to the dead-letter stream
  start(opts);
  flush();
  CAF_CHECK_EQUAL(metrics->failed.load(), 2u);
  CAF_CHECK_EQUAL(metrics->processed.load(), 4u);
  CAF_CHECK_EQUAL(metrics->dead_lettered.load(), 2u);
  std::vector<std::string> xacked;
  for (const auto& cmd : data->commands("XACK"))
    xacked.insert(xacked.end(), cmd.argv.begin() + 3, cmd.argv.end());
  std::sort(xacked.begin(), xacked.end());
  CAF_CHECK_EQUAL(xacked, (std::vector<std::string>{"1000-0", "1002-0", "1003-0", "1005-0"}));
  // The second callback never ran for the failed entries.
  for (const auto& r : ran)
    CAF_CHECK(r.first != "1001-0" && r.first != "1004-0");
  // Dead letters: the entry's fields plus why, which, where from, how often.
  CAF_REQUIRE_EQUAL(data->dead.size(), 2u);
  auto& d = data->dead[0];
  CAF_CHECK_EQUAL(d[4], "s:dead");
  CAF_CHECK_EQUAL(d[6], "1001-0");
  auto text = caf::deep_to_string(d);
  CAF_CHECK_NOT_EQUAL(text.find("bad entry"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("dead_deliveries"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(caf::deep_to_string(data->dead[1]).find("boom"), std::string::npos);
}

CAF_TEST(failed entries are redelivered after a backoff then succeed) {
  fill(1);
  std::vector<uint32_t> attempts;
  callbacks->add([&](const stream_entry& e) -> caf::error {
    attempts.push_back(e.deliveries);
    if (*e.find("seq") == "0" && e.deliveries < 3)
      return make_error(sec::invalid_argument, "not yet");
    return caf::none;
  });
  auto opts = options(1);
  opts.max_deliveries = 5;
  opts.redeliver_base = std::chrono::milliseconds{100};
  start(opts);
  CAF_CHECK_EQUAL(attempts, std::vector<uint32_t>{1});
  // The entry holds the only credit while it waits: nothing else is read.
  fill(3, 1);
  push();
  CAF_CHECK_EQUAL(data->handed_out, 1u);
  advance_time(std::chrono::milliseconds{40}); // backoff is 50..100 ms
  consume_messages();
  CAF_CHECK(data->commands("XCLAIM").empty());
  advance_time(std::chrono::milliseconds{60});
  consume_messages();
  CAF_CHECK_EQUAL(attempts, (std::vector<uint32_t>{1, 2}));
  CAF_CHECK_EQUAL(data->commands("XCLAIM").size(), 1u); // bumps Redis' count
  advance_time(std::chrono::milliseconds{200});
  consume_messages();
  flush();
  CAF_CHECK_EQUAL(attempts, (std::vector<uint32_t>{1, 2, 3, 1, 1, 1}));
  CAF_CHECK_EQUAL(metrics->redelivered.load(), 2u);
  CAF_CHECK_EQUAL(data->acked.size(), 4u);
  CAF_CHECK(data->dead.empty());
}

CAF_TEST(an entry failing every delivery is is dead lettered after max_deliveries) {
  fill(1);
  callbacks->add(
    [](const stream_entry&) -> caf::error { return make_error(sec::invalid_argument, "always"); });
  auto opts = options(2);
  opts.max_deliveries = 3;
  start(opts);
  for (int i = 0; i < 5; ++i) {
    advance_time(std::chrono::seconds{1});
    consume_messages();
  }
  CAF_CHECK_EQUAL(metrics->failed.load(), 3u);
  CAF_CHECK_EQUAL(data->deliveries["1000-0"], 3u);
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_NOT_EQUAL(caf::deep_to_string(data->dead[0]).find("failed 3 deliveries"),
                      std::string::npos);
}

CAF_TEST(fail_permanently dead letters at once) {
  fill(1);
  callbacks->add([](const stream_entry&) { return fail_permanently("no seq field"); });
  start(options(2));
  CAF_CHECK_EQUAL(data->dead.size(), 1u);
  CAF_CHECK(data->commands("XCLAIM").empty());
}

CAF_TEST(own pending entries delivered too often are is dead lettered unrun) {
  data->backlog = {make_entry(1), make_entry(2)};
  data->deliveries["1001-0"] = 7; // a poison pill that crashed consumers
  callbacks->add(record(1));
  auto opts = options(4);
  opts.max_deliveries = 5;
  start(opts);
  flush();
  CAF_CHECK_EQUAL(ran.size(), 1u);
  CAF_CHECK_EQUAL(ran.at(0).first, "1002-0");
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_EQUAL(data->dead[0][6], "1001-0");
}

CAF_TEST(entries of dead consumers are claimed and the cursor carried forward) {
  data->claimable = {make_entry(7), make_entry(8)};
  data->claim_cursor_reply = "1500-0";
  callbacks->add(record(1));
  auto opts = options(4);
  opts.claim_min_idle = std::chrono::seconds{30};
  opts.claim_interval = std::chrono::seconds{1};
  start(opts);
  advance_time(std::chrono::seconds{1});
  consume_messages();
  flush();
  CAF_CHECK_EQUAL(ran.size(), 2u);
  CAF_CHECK_EQUAL(metrics->claimed.load(), 2u);
  advance_time(std::chrono::seconds{1});
  consume_messages();
  auto claims = data->commands("XAUTOCLAIM");
  CAF_REQUIRE_GREATER_OR_EQUAL(claims.size(), 2u);
  CAF_CHECK_EQUAL(claims[0].argv[4], "30000"); // min idle in ms
  CAF_CHECK_EQUAL(claims[0].argv[5], "0-0");
  CAF_CHECK_EQUAL(claims[1].argv[5], "1500-0");
  CAF_CHECK_EQUAL(claims[0].argv[7], "4"); // COUNT = idle workers
}

CAF_TEST(long running entries have their lease renewed) {
  fill(1);
  callbacks->add_async(hold());
  auto opts = options(2);
  opts.claim_min_idle = std::chrono::seconds{3};
  opts.claim_interval = std::chrono::hours{1};
  start(opts);
  advance_time(std::chrono::seconds{1});
  consume_messages();
  advance_time(std::chrono::seconds{1});
  consume_messages();
  auto leases = data->commands("XCLAIM");
  CAF_REQUIRE_GREATER_OR_EQUAL(leases.size(), 1u);
  CAF_CHECK_EQUAL(leases.back().argv.back(), "JUSTID");
  CAF_CHECK_EQUAL(leases.back().argv[5], "1000-0");
  CAF_CHECK_EQUAL(data->deliveries["1000-0"], 1u); // a lease is not a delivery
}

CAF_TEST(an async callback past its timeout fails the entry) {
  start_timing_out(1);
  CAF_REQUIRE_EQUAL(held.size(), 1u);
  CAF_CHECK(data->dead.empty());
  advance_time(std::chrono::seconds{2});
  consume_messages();
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_NOT_EQUAL(caf::deep_to_string(data->dead[0]).find("callback_timeout"),
                      std::string::npos);
  held[0](); // completing late changes nothing
  consume_messages();
  flush();
  CAF_CHECK_EQUAL(metrics->processed.load(), 0u);
  CAF_CHECK_EQUAL(data->acked, std::vector<std::string>{"1000-0"}); // by the script only
}

CAF_TEST(a worker keeps one deadline timer however many deliveries it finishes) {
  fill(200);
  callbacks->add_async([](const stream_entry&, async_context ctx) { ctx.done(); });
  auto opts = options(2);
  opts.callback_timeout = std::chrono::seconds{30};
  opts.ack_batch = 1000;
  start(opts);
  flush();
  CAF_REQUIRE_EQUAL(data->acked.size(), 200u);
  // Two workers' timers plus the reader's own few; a timer per delivery
  // would leave 200 here for the next 30 s.
  CAF_CHECK_LESS(sched.clock().schedule().size(), 10u);
}

CAF_TEST(a delivery times out at its own deadline after earlier ones finished) {
  start_timing_out(2);
  CAF_REQUIRE_EQUAL(held.size(), 1u);
  advance_time(std::chrono::seconds{1});
  consume_messages();
  held[0](); // the first finishes at 1 s; the second starts, due at 3 s
  consume_messages();
  CAF_REQUIRE_EQUAL(held.size(), 2u);
  advance_time(std::chrono::seconds{1}); // 2 s: the first's timer, moved on
  consume_messages();
  CAF_CHECK(data->dead.empty());
  advance_time(std::chrono::milliseconds{999});
  consume_messages();
  CAF_CHECK(data->dead.empty());
  advance_time(std::chrono::milliseconds{1}); // 3 s
  consume_messages();
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_NOT_EQUAL(caf::deep_to_string(data->dead[0]).find("1001-0"), std::string::npos);
}

CAF_TEST(acks are batched into one XACK per flush) {
  fill(8);
  callbacks->add(record(1));
  auto opts = options(8);
  opts.ack_batch = 100;
  start(opts);
  CAF_CHECK_EQUAL(ran.size(), 8u);
  CAF_CHECK(data->commands("XACK").empty()); // waiting for the ack delay
  flush();
  auto xacks = data->commands("XACK");
  CAF_REQUIRE_EQUAL(xacks.size(), 1u);
  CAF_CHECK_EQUAL(xacks[0].argv.size(), 3u + 8u);
  CAF_CHECK_EQUAL(metrics->acked.load(), 8u);
}

CAF_TEST(a full batch flushes without waiting) {
  fill(8);
  callbacks->add(record(1));
  auto opts = options(8);
  opts.ack_batch = 4;
  start(opts);
  auto xacks = data->commands("XACK");
  CAF_REQUIRE_EQUAL(xacks.size(), 2u);
  CAF_CHECK_EQUAL(xacks[0].argv.size(), 3u + 4u);
  CAF_CHECK_EQUAL(xacks[1].argv.size(), 3u + 4u);
}

CAF_TEST(own pending entries are processed before new ones) {
  data->backlog = {make_entry(1), make_entry(2), stream_entry{"1003-0", {}}, make_entry(4)};
  for (uint64_t i = 10; i < 15; ++i)
    data->fresh.push_back(make_entry(i));
  callbacks->add(record(1));
  start(options(8));
  flush();
  auto reads = data->commands("XREADGROUP");
  CAF_REQUIRE_GREATER_OR_EQUAL(reads.size(), 3u);
  CAF_CHECK_EQUAL(reads[0].argv.back(), "0");      // own pending first
  CAF_CHECK_EQUAL(reads[1].argv.back(), "1004-0"); // cursor carried forward
  CAF_CHECK_EQUAL(reads[2].argv.back(), ">");      // then new entries
  CAF_CHECK(std::find(reads[0].argv.begin(), reads[0].argv.end(), "BLOCK") == reads[0].argv.end());
  std::vector<std::string> order;
  for (const auto& r : ran)
    order.push_back(r.first);
  CAF_CHECK_EQUAL(order, (std::vector<std::string>{"1001-0", "1002-0", "1004-0", "1010-0", "1011-0",
                                                   "1012-0", "1013-0", "1014-0"}));
  // The deleted entry is acked (it can never be delivered), not processed.
  CAF_CHECK_EQUAL(metrics->deleted.load(), 1u);
  CAF_CHECK(std::find(data->acked.begin(), data->acked.end(), "1003-0") != data->acked.end());
  CAF_CHECK_EQUAL(data->acked.size(), 9u);
}

CAF_TEST(a blocked read waits for new entries) {
  callbacks->add(record(1));
  start(options(4));
  CAF_CHECK(data->held.has_value());
  CAF_CHECK(ran.empty());
  fill(3);
  push();
  flush();
  CAF_CHECK_EQUAL(ran.size(), 3u);
  CAF_CHECK_EQUAL(data->acked.size(), 3u);
}

CAF_TEST(an idle reader keeps a second read queued behind the blocked one) {
  callbacks->add(record(1));
  start(options(4));
  // After the own pending list (`0`, empty): two pipelined `>` reads that
  // split the credits.
  auto reads = data->commands("XREADGROUP");
  CAF_REQUIRE_EQUAL(reads.size(), 3u);
  CAF_CHECK_EQUAL(reads[0].argv.back(), "0");
  CAF_CHECK_EQUAL(reads[1].argv.back(), ">");
  CAF_CHECK_EQUAL(reads[1].argv[5], "2");
  CAF_CHECK_EQUAL(reads[2].argv[5], "2");
  CAF_CHECK(data->held.has_value());
  CAF_CHECK_EQUAL(data->queued.size(), 1u);
  for (uint64_t round = 0; round < 3; ++round) {
    fill(1, round);
    push();
    flush();
    CAF_CHECK_EQUAL(ran.size(), round + 1);
    // The reply's read was replaced and the other one blocks: an entry added
    // now is handed out by a read already at Redis, not after a round trip.
    CAF_CHECK(data->held.has_value());
    CAF_CHECK_EQUAL(data->queued.size(), 1u);
  }
  CAF_CHECK_EQUAL(data->commands("XREADGROUP").size(), 6u);
  CAF_CHECK_EQUAL(data->acked.size(), 3u);
}

CAF_TEST(stop unblocks the read then finishes the entries in flight and flushes acks) {
  fill(2);
  callbacks->add_async(hold());
  start(options(4));
  CAF_CHECK_EQUAL(held.size(), 2u);
  CAF_CHECK(data->held.has_value()); // a `>` read is blocked for more
  caf::anon_send(reader, stop_atom::value);
  consume_messages();
  auto unblock = data->commands("CLIENT");
  CAF_REQUIRE_EQUAL(unblock.size(), 1u);
  CAF_CHECK_EQUAL(unblock[0].argv, (std::vector<std::string>{"CLIENT", "UNBLOCK", "42"}));
  CAF_CHECK(!metrics->finished.load()); // two entries still in flight
  held[0]();
  held[1]();
  consume_messages();
  flush();
  CAF_CHECK_EQUAL(data->acked.size(), 2u);
  CAF_CHECK(metrics->finished.load());
}

CAF_TEST(after a reconnect the own pending list is read again without duplicates) {
  fill(2);
  callbacks->add_async(hold());
  start(options(4));
  CAF_REQUIRE_EQUAL(held.size(), 2u); // entries 0 and 1 in flight
  CAF_REQUIRE(data->held.has_value());
  // The connection dies under the blocked read; Redis had already assigned
  // entry 5 to this consumer, but the reply never arrived.
  hand_out(*data, make_entry(5));
  caf::anon_send(reader, conn_down_atom::value, make_error(sec::connection_lost));
  caf::anon_send(conn, drop_atom::value);
  consume_messages();
  caf::anon_send(reader, conn_up_atom::value, int64_t{43});
  consume_messages();
  std::vector<std::string> started;
  for (const auto& r : ran)
    started.push_back(r.first);
  CAF_CHECK_EQUAL(started, (std::vector<std::string>{"1000-0", "1001-0", "1005-0"}));
  for (auto& done : held)
    done();
  consume_messages();
  flush();
  auto acked = data->acked;
  std::sort(acked.begin(), acked.end());
  CAF_CHECK_EQUAL(acked, (std::vector<std::string>{"1000-0", "1001-0", "1005-0"}));
}

CAF_TEST(with a limit the reader reads that many entries and finishes) {
  fill(10);
  callbacks->add(record(1));
  auto opts = options(4);
  opts.limit = 7;
  start(opts);
  flush();
  CAF_CHECK_EQUAL(data->handed_out, 7u);
  CAF_CHECK_EQUAL(data->acked.size(), 7u);
  CAF_CHECK(metrics->finished.load());
}

CAF_TEST_FIXTURE_SCOPE_END()
