// An order consumer, the README's example: every entry of the stream
// "orders" (group "billing") is validated by a synchronous callback, then
// booked into the Redis hash "ledger" through rill's shared connection by an
// asynchronous one. An entry without a customer or a whole-number amount
// fails permanently and goes to the dead-letter stream "orders:dead"; every
// other entry is acked once both callbacks succeeded.
//
//   order_consumer --redis 127.0.0.1:6379 [--count N] [--max-in-flight K]
//
// It runs until SIGINT/SIGTERM, or until it has read N entries (--count).

#include <rill/rill.hpp>

#include <caf/event_based_actor.hpp> // ctx.self->request(...)

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace {

bool whole_number(const std::string& text) {
  auto digits = text.size() > 1 && text[0] == '-' ? text.substr(1) : text;
  return !digits.empty() && digits.size() < 19
         && std::all_of(digits.begin(), digits.end(),
                        [](unsigned char c) { return std::isdigit(c); });
}

} // namespace

int main(int argc, char** argv) {
  rill::config cfg; // --redis HOST:PORT, --count, redis.*, consumer.*, --config-file=...
  if (auto err = cfg.load({argv + 1, argv + argc})) {
    std::fprintf(stderr, "order_consumer: %s\n", rill::describe(err).c_str());
    return 2;
  }
  if (cfg.help_printed())
    return 0;
  rill::runtime rt{cfg};

  auto opts = cfg.consumer; // --max-in-flight and every consumer.* option
  opts.stream = opts.stream.empty() ? "orders" : opts.stream;
  opts.group = opts.group.empty() ? "billing" : opts.group;
  opts.limit = cfg.count; // 0: until a signal
  auto& orders = rt.add_consumer(opts);

  // 1. Runs first, on the worker: a bad entry is not worth retrying.
  orders.add([](const rill::stream_entry& e) -> caf::error {
    auto customer = e.find("customer");
    auto amount = e.find("amount");
    if (!customer || customer->empty() || !amount || !whole_number(*amount))
      return rill::fail_permanently("an order needs a customer and a whole-number amount");
    return caf::none;
  });

  // 2. Runs after 1 succeeded: talks to Redis without blocking a thread. The
  // worker stays busy until done() is called; an error nacks the entry
  // (retried with backoff, dead-lettered after consumer.max-deliveries).
  orders.add_async([](const rill::stream_entry& e, rill::async_context ctx) {
    auto cmd = rill::make_command({"HINCRBY", "ledger", *e.find("customer"), *e.find("amount")});
    ctx.self->request(ctx.shared_conn, std::chrono::seconds{5}, std::move(cmd))
      .then([done = ctx.done](rill::redis_reply&) { done(); },
            [done = ctx.done](caf::error& err) { done(std::move(err)); });
  });

  rt.start();
  return rt.run();
}
