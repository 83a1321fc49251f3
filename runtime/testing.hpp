#pragma once

// rill::testing (<rill/testing.hpp>, target rill::testing): unit-test an
// app's callbacks without Redis and without threads. A callback_harness runs
// a callback list the way rill's workers do - in registration order, an
// asynchronous callback holding the worker until `done`, ack after the last
// one, the first failure nacks - on CAF's test coordinator: deterministic,
// with virtual time (a 1 s timer costs nothing). Its connection and producer
// are scripted: they record every command and answer with the app's function.
// Built on CAF's test_coordinator directly, not on CAF's unit-test engine, so
// it goes with gtest, Catch2 or a plain main.
//
//     rill::testing::callback_harness h;
//     h.answer_with([](const rill::redis_command& cmd) { return rill::redis_reply::number(1); });
//     auto out = h.run(my_callbacks, rill::testing::entry("1-1", {"amount", "5"}));
//     assert(out.acked && h.commands().size() == 1);

#include <rill/actors/callbacks.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rill::testing {

/// What the worker did with one entry.
struct outcome {
  /// Every callback succeeded: the entry was acked (with its effects, if
  /// it staged any).
  bool acked = false;
  /// The effects its callbacks staged, in order (applied with the ack). A
  /// staging mistake nacks the entry with `sec::permanent_failure` instead.
  std::vector<effect> effects;
  /// The first failure (the entry was nacked), or none.
  caf::error error;
  /// Neither ack nor nack within the limit of `run` (virtual time).
  bool timed_out = false;
  /// Virtual time from the delivery to the ack or nack.
  caf::timespan took{0};
};

/// An entry with these fields (names and values alternating).
stream_entry entry(std::string id, std::vector<std::string> fields);

class callback_harness {
public:
  /// How the scripted connection answers one command. A pipeline is answered
  /// command by command (an error becomes an error reply in the batch).
  using script = std::function<caf::expected<redis_reply>(const redis_command&)>;

  /// `callback_timeout`: as consumer_options::callback_timeout (an async
  /// callback still running after it fails its entry).
  explicit callback_harness(caf::timespan callback_timeout = std::chrono::minutes{5});
  ~callback_harness();
  callback_harness(const callback_harness&) = delete;
  callback_harness& operator=(const callback_harness&) = delete;

  /// Default: every command is answered "+OK".
  void answer_with(script fn);

  /// Delivers `e` to a worker running `callbacks`, then runs the system - and
  /// moves virtual time to the next timer whenever nothing else is left to
  /// do - until the worker acks or nacks, or `limit` of virtual time passed.
  outcome run(const callback_list& callbacks, stream_entry e,
              caf::timespan limit = std::chrono::minutes{10});

  /// Every command the callbacks sent through `ctx.shared_conn`, and every
  /// XADD through `ctx.producer` (as an XADD command with ID "*"), in order.
  const std::vector<redis_command>& commands() const;

  /// Virtual time since the harness started.
  caf::timespan elapsed() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace rill::testing
