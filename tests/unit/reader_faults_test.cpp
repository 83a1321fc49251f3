#define CAF_SUITE reader_faults
// Regression tests for defects a hostile test run found in the reader and its
// workers (one test per defect, named after what must hold now).
#include "reader_fixture.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <set>

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

/// Answers every request with an error.
caf::behavior refusing(caf::event_based_actor*) {
  return {[](int) -> caf::result<int> {
    return make_error(sec::reply_error, "no");
  }};
}

/// Answers every request.
caf::behavior answering(caf::event_based_actor*) {
  return {[](int x) {
    return x;
  }};
}

/// Captures what rill logs while it lives (the default logger).
struct log_capture {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink
    = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10000);
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();

  log_capture() { spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink)); }
  ~log_capture() { spdlog::set_default_logger(previous); }

  /// Lines of `level` or above that contain `text`.
  size_t count(const std::string& text, spdlog::level::level_enum level) const {
    size_t n = 0;
    for (const auto& msg : sink->last_raw())
      if (msg.level >= level
          && std::string_view{msg.payload.data(), msg.payload.size()}.find(text)
               != std::string_view::npos)
        ++n;
    return n;
  }
};

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

CAF_TEST(an error response nobody handles fails the entry not the worker) {
  fill(6);
  auto service = sys.spawn(refusing);
  auto first_try = std::make_shared<std::set<std::string>>();
  callbacks->add_async([this, service, first_try](const stream_entry& e, async_context ctx) {
    ran.emplace_back(e.id, 1);
    if (first_try->insert(e.id).second) {
      // A `.then` without an error handler: CAF's default would kill the worker.
      ctx.self->request(service, caf::infinite, 1).then([done = ctx.done](int) { done(); });
      return;
    }
    ctx.done();
  });
  auto opts = options(2);
  opts.redeliver_base = std::chrono::milliseconds{10};
  start(opts);
  for (int i = 0; i < 5; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->acked.size(), 6u);
  CAF_CHECK_EQUAL(metrics->failed.load(), 6u);
  CAF_CHECK_EQUAL(metrics->workers_down.load(), 0u);
  caf::anon_send_exit(service, caf::exit_reason::kill);
}

CAF_TEST(a worker killed by a throwing response handler is replaced) {
  log_capture logs;
  fill(10);
  auto service = sys.spawn(answering);
  auto first_try = std::make_shared<std::set<std::string>>();
  callbacks->add_async([this, service, first_try](const stream_entry& e, async_context ctx) {
    ran.emplace_back(e.id, 1);
    bool throws = first_try->insert(e.id).second && std::stoi(*e.find("seq")) < 4;
    ctx.self->request(service, caf::infinite, 1).then([done = ctx.done, throws](int) {
      if (throws)
        throw std::runtime_error("boom in a response handler");
      done();
    });
  });
  auto opts = options(2); // two workers, four of them die
  opts.redeliver_base = std::chrono::milliseconds{10};
  start(opts);
  for (int i = 0; i < 5; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK_EQUAL(metrics->workers_down.load(), 4u);
  CAF_CHECK_EQUAL(data->acked.size(), 10u);
  CAF_CHECK_EQUAL(metrics->processed.load(), 10u);
  CAF_CHECK_NOT_EQUAL(metrics->last_error().find("boom"), std::string::npos);
  // Four deaths in one streak: one line, then one summary a second later.
  CAF_CHECK_EQUAL(logs.count("a worker went down", spdlog::level::warn), 1u);
  advance_time(std::chrono::seconds{1});
  consume_messages();
  CAF_CHECK_EQUAL(logs.count("4 workers went down in this streak", spdlog::level::warn), 1u);
  caf::anon_send_exit(service, caf::exit_reason::kill);
}

CAF_TEST(a forgotten done times out after the default callback timeout) {
  fill(2);
  callbacks->add_async([this](const stream_entry& e, async_context) {
    ran.emplace_back(e.id, 1); // never calls done
  });
  auto opts = options(1);
  opts.max_deliveries = 1;
  start(opts);
  CAF_CHECK_EQUAL(opts.callback_timeout, std::chrono::minutes{5});
  advance_time(std::chrono::minutes{5});
  consume_messages();
  advance_time(std::chrono::minutes{5});
  consume_messages();
  CAF_CHECK_EQUAL(data->dead.size(), 2u);
  CAF_CHECK_EQUAL(ran.size(), 2u);
}

CAF_TEST(a read that ran after its connection closed leaves no entry stuck) {
  callbacks->add(record(1));
  auto opts = options(4);
  opts.claim_min_idle = caf::timespan{0}; // no claiming: nobody else would take them
  start(opts);
  // A read that timed out on a connection rill closed ran in Redis later:
  // three entries are pending for this consumer, delivered to nobody.
  fill(3);
  strand(*data, 3);
  advance_time(opts.orphan_check);
  consume_messages();
  flush();
  CAF_CHECK_EQUAL(ran.size(), 3u);
  CAF_CHECK_EQUAL(metrics->orphans.load(), 3u);
  CAF_CHECK_EQUAL(data->acked.size(), 3u);
  CAF_CHECK(data->pel.empty());
}

CAF_TEST(a reconnect delivers lost entries without counting a delivery of held ones) {
  fill(2);
  callbacks->add_async(hold());
  start(options(4));
  CAF_REQUIRE_EQUAL(held.size(), 2u); // 1000-0 and 1001-0 in workers
  // The blocked read runs, but its reply is lost with the connection.
  fill(2, 2);
  caf::anon_send(conn, lose_atom::value);
  caf::anon_send(reader, conn_down_atom::value, make_error(sec::connection_lost));
  consume_messages();
  caf::anon_send(reader, conn_up_atom::value, int64_t{43});
  consume_messages();
  advance_time(std::chrono::milliseconds{200}); // the read's retry backoff
  consume_messages();
  CAF_REQUIRE_EQUAL(held.size(), 4u); // the two lost ones reached workers
  CAF_CHECK_EQUAL(metrics->orphans.load(), 2u);
  // Entries in workers were not read again (no `XREADGROUP ... 0`, which
  // counts a delivery for every entry it returns).
  CAF_CHECK_EQUAL(data->deliveries["1000-0"], 1u);
  CAF_CHECK_EQUAL(data->deliveries["1001-0"], 1u);
  auto reads = data->commands("XREADGROUP");
  auto own = std::count_if(reads.begin(), reads.end(),
                           [](const redis_command& cmd) { return cmd.argv.back() == "0"; });
  CAF_CHECK_EQUAL(own, 1); // the one at start only
  release_from(0);
  flush();
  CAF_CHECK_EQUAL(data->acked.size(), 4u);
  CAF_CHECK(data->pel.empty());
}

CAF_TEST(a server still loading its data is asked again soon not backed off) {
  data->loading = 30; // about 3 s at 100 ms a try
  fill(5);
  callbacks->add(record(1));
  start(options(2));
  for (int i = 0; i < 40 && data->acked.size() < 5; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->loading, 0u);
  CAF_CHECK_EQUAL(data->acked.size(), 5u); // within 4 s; backing off took ~50 s
}

CAF_TEST(acks refused while the server loads are retried soon) {
  fill(4);
  callbacks->add(record(1));
  data->xack_failures = 20;
  data->loading_acks = true;
  start(options(4));
  for (int i = 0; i < 30 && data->acked.size() < 4; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->acked.size(), 4u); // within 3 s; backing off took ~50 s
}

CAF_TEST(failing acks are one warning per streak and counted when the stop gives up) {
  log_capture logs;
  fill(8);
  callbacks->add(record(1));
  auto opts = options(4);
  opts.ack_batch = 2; // four XACKs fail at once, then their retries
  opts.retry_max = std::chrono::milliseconds{500};
  data->xack_failures = 12;
  start(opts);
  for (int i = 0; i < 20; ++i) {
    advance_time(std::chrono::milliseconds{500});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->xack_failures, 0u);
  CAF_CHECK_EQUAL(data->acked.size(), 8u);
  CAF_CHECK_EQUAL(metrics->ack_failures.load(), 12u);
  CAF_CHECK_EQUAL(logs.count("XACK of", spdlog::level::warn), 1u);
  CAF_CHECK_EQUAL(logs.count("XACK works again (12 attempts", spdlog::level::info), 1u);
  // Redis goes away for good, then the stop: the deadline counts the acks
  // it could not flush.
  data->xack_failures = 1000;
  fill(3, 8);
  push();
  CAF_CHECK_EQUAL(ran.size(), 11u);
  caf::anon_send(reader, stop_atom::value);
  consume_messages();
  advance_time(opts.stop_timeout);
  consume_messages();
  CAF_CHECK_EQUAL(metrics->unflushed_acks.load(), 3u);
  CAF_CHECK_EQUAL(
    logs.count("3 acks of processed entries could not be flushed", spdlog::level::err), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
