// Unit-testing an app's callbacks with rill::testing: no Redis, no threads,
// virtual time. A plain main with its own checks (the harness does not pull
// in CAF's test engine, so gtest or Catch2 work the same way). Exit 0 when
// every check holds.

#include <rill/rill.hpp>
#include <rill/testing.hpp>

#include <caf/event_based_actor.hpp> // ctx.self->request(...)

#include <chrono>
#include <cstdio>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  failures += ok ? 0 : 1;
}

/// The app's callbacks under test: validate, wait a second (a rate limit,
/// say), then book the amount into a hash through the shared connection.
rill::callback_list order_callbacks() {
  rill::callback_list list;
  list.add([](const rill::stream_entry& e) -> caf::error {
    if (!e.find("amount"))
      return rill::fail_permanently("no amount");
    return caf::none;
  });
  list.add_async([](const rill::stream_entry&, rill::async_context ctx) {
    ctx.done.after(std::chrono::seconds{1});
  });
  list.add_async([](const rill::stream_entry& e, rill::async_context ctx) {
    auto cmd = rill::make_command({"HINCRBY", "ledger", "total", *e.find("amount")});
    ctx.self->request(ctx.shared_conn, std::chrono::seconds{5}, std::move(cmd))
      .then([done = ctx.done](rill::redis_reply&) { done(); },
            [done = ctx.done](caf::error& err) { done(std::move(err)); });
  });
  return list;
}

} // namespace

int main() {
  using namespace std::chrono_literals;
  rill::testing::callback_harness h;
  h.answer_with([](const rill::redis_command& cmd) -> caf::expected<rill::redis_reply> {
    if (cmd.argv.at(0) == "HINCRBY")
      return rill::redis_reply::number(42);
    return rill::make_error(rill::sec::reply_error, "unexpected " + cmd.argv.at(0));
  });
  auto callbacks = order_callbacks();

  auto good = h.run(callbacks, rill::testing::entry("1-1", {"amount", "7"}));
  check(good.acked, "a good order is acked");
  check(good.took >= 1s && good.took < 2s, "after the 1 s wait, in virtual time");
  check(h.commands().size() == 1
          && h.commands()[0].argv == std::vector<std::string>{"HINCRBY", "ledger", "total", "7"},
        "with one HINCRBY of its amount");

  auto bad = h.run(callbacks, rill::testing::entry("1-2", {"customer", "c1"}));
  check(!bad.acked && rill::code_of(bad.error) == rill::sec::permanent_failure,
        "an order without amount fails permanently");
  check(h.commands().size() == 1, "and sends nothing to Redis");

  h.answer_with([](const rill::redis_command&) -> caf::expected<rill::redis_reply> {
    return rill::make_error(rill::sec::redis_unavailable, "redis is down (scripted)");
  });
  auto down = h.run(callbacks, rill::testing::entry("1-3", {"amount", "1"}));
  auto text = rill::describe(down.error);
  check(
    !down.acked && rill::code_of(down.error) == rill::sec::callback_failed
      && text.find("callback #3") != std::string::npos
      && text.find("redis is down") != std::string::npos,
    "Redis down: callback #3 fails the entry (nack, retried later) with the connection's error");

  rill::callback_list forgetful;
  forgetful.add_async([](const rill::stream_entry&, rill::async_context) {}); // never calls done
  rill::testing::callback_harness strict{std::chrono::seconds{30}};
  auto stuck = strict.run(forgetful, rill::testing::entry("1-4", {}));
  check(!stuck.acked && rill::code_of(stuck.error) == rill::sec::callback_timeout,
        "a forgotten done() fails the entry after the callback timeout");
  check(stuck.took == 30s, "exactly at the timeout, in virtual time");

  // Staged effects (docs/exactly-once.md): applied later with the XACK, so
  // the harness shows them instead of sending them.
  rill::callback_list booking;
  booking.add([](const rill::stream_entry& e, rill::effects& fx) {
    fx.hincrby("totals", *e.find("customer"), 2);
  });
  booking.add_async([](const rill::stream_entry& e, rill::async_context ctx) {
    ctx.effects().xadd("orders:valid", {"src", e.id});
    ctx.done();
  });
  auto staged = h.run(booking, rill::testing::entry("1-5", {"customer", "bob"}));
  check(staged.acked && staged.effects.size() == 2 && staged.effects[0].op == "hincrby"
          && staged.effects[0].args == std::vector<std::string>{"bob", "2"}
          && staged.effects[1].key == "orders:valid",
        "staged effects come with the ack, in the order they were staged");
  rill::callback_list undeclared;
  undeclared.add([](const rill::stream_entry&, rill::effects& fx) {
    fx.command({"SADD", "not-declared", "x"});
  });
  auto refused = h.run(undeclared, rill::testing::entry("1-6", {}));
  check(!refused.acked && rill::code_of(refused.error) == rill::sec::permanent_failure,
        "a generic command on an undeclared key fails the entry permanently");
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
