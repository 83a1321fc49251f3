#pragma once

// The reader fixture shared by the reader's test suites: a reader with `k`
// workers against the scripted fake Redis, on CAF's test coordinator.

#include <rill/actors/ack_relay.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/reader.hpp>
#include <rill/actors/worker.hpp>
#include <rill/testing/fake_redis.hpp>

#include <caf/test/dsl.hpp>

#include <algorithm>

namespace rill::testing {

struct rill_test_config : caf::actor_system_config {
  rill_test_config() { register_message_types(*this); }
};

// Note: `sched.run()` of CAF 0.17 also fires every pending timeout (request
// deadlines included), so these tests use `consume_messages()` and move
// virtual time explicitly.
struct fixture : test_coordinator_fixture<rill_test_config> {
  std::shared_ptr<fake_stream> data = std::make_shared<fake_stream>();
  caf::actor conn = sys.spawn(fake_redis, data);
  std::shared_ptr<consumer_metrics> metrics = std::make_shared<consumer_metrics>();
  std::shared_ptr<callback_list> callbacks = std::make_shared<callback_list>();
  caf::actor reader;
  /// The ack relay of `start(opts, true)`.
  caf::actor relay;
  std::vector<caf::actor> workers;
  /// (entry id, callback number) in the order callbacks ran.
  std::vector<std::pair<std::string, int>> ran;
  /// Completions of held asynchronous callbacks.
  std::vector<completion> held;

  // The base destructor fires timeouts until none are left; a live reader
  // always has one (its read deadline), so end the actors first.
  ~fixture() override {
    if (reader)
      caf::anon_send_exit(reader, caf::exit_reason::kill);
    caf::anon_send_exit(conn, caf::exit_reason::kill);
    consume_messages();
  }

  consumer_options options(uint32_t k) {
    consumer_options opts;
    opts.stream = "s";
    opts.group = "g";
    opts.consumer = "c";
    opts.max_in_flight = k;
    opts.ack_delay = std::chrono::milliseconds{1};
    return opts;
  }

  void fill(uint64_t n, uint64_t first = 0) {
    for (uint64_t i = first; i < first + n; ++i)
      data->fresh.push_back(make_entry(i));
  }

  /// Spawns a reader with `k` workers and runs until nothing moves.
  void start(consumer_options opts, bool via_relay = false) {
    // The fake speaks the connection's typed interface.
    auto c = caf::actor_cast<connection_actor>(conn);
    reader = spawn_reader(
      sys, opts,
      [c](caf::actor listener) {
        caf::anon_send(listener, conn_up_atom::value, int64_t{42});
        return c;
      },
      c, metrics);
    relay
      = via_relay ? spawn_ack_relay(sys, reader, opts.ack_linger, opts.stop_timeout) : caf::actor{};
    for (uint32_t i = 0; i < opts.max_in_flight; ++i)
      workers.push_back(spawn_worker(sys, caf::actor_cast<reader_actor>(reader), callbacks, c,
                                     opts.callback_timeout, false, relay));
    consume_messages();
  }

  /// Lets the ack-flush timer fire and runs until nothing moves.
  void flush() {
    advance_time(std::chrono::milliseconds{1});
    consume_messages();
  }

  /// Completes the held async callbacks from index `first` on, one at a time.
  void release_from(size_t first) {
    for (size_t i = first; i < held.size(); ++i) {
      held[i]();
      consume_messages();
    }
  }

  void push() {
    caf::anon_send(conn, push_atom::value);
    consume_messages();
  }

  auto record(int n) {
    return [this, n](const stream_entry& e) {
      ran.emplace_back(e.id, n);
    };
  }

  auto hold() {
    return [this](const stream_entry& e, async_context ctx) {
      ran.emplace_back(e.id, 0);
      held.push_back(ctx.done);
    };
  }

  /// One worker holding every entry's async callback; an entry fails (and is
  /// dead-lettered) at its first callback timeout, 2 s.
  void start_timing_out(uint64_t entries) {
    fill(entries);
    callbacks->add_async(hold());
    auto opts = options(1);
    opts.max_deliveries = 1;
    opts.callback_timeout = std::chrono::seconds{2};
    start(opts);
  }
};

} // namespace rill::testing
