// An example app: an order index kept in Redis. It links rill, registers its
// callbacks by name and hands over to rill::node_main, so it runs every role
// the `rill` binary does (readers, local or remote worker pools, TLS) from
// the same flags and `--config FILE`.
//
// Each entry is an order: fields `order`, `customer`, `amount_cents`.
//   validate  (sync)  a malformed order fails permanently -> dead letter
//   store     (async) HSET order:<order> customer .. amount_cents ..
//                     SADD customer:<customer>:orders <order>
// Both writes are idempotent: a redelivery after a crash (at-least-once)
// writes the same values again.

#include <rill/actors/error.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/runtime/node_main.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <cstdlib>

namespace {

using namespace std::chrono_literals;

bool is_cents(const std::string& text) {
  if (text.empty() || text.size() > 18)
    return false;
  for (char ch : text)
    if (ch < '0' || ch > '9')
      return false;
  return true;
}

caf::error validate(const rill::stream_entry& e) {
  auto order = e.find("order");
  auto customer = e.find("customer");
  auto amount = e.find("amount_cents");
  if (!order || !customer || !amount || order->empty() || customer->empty())
    return rill::fail_permanently("order entry needs order, customer and amount_cents");
  if (!is_cents(*amount))
    return rill::fail_permanently("amount_cents is not a whole number of cents");
  return caf::none;
}

void store(const rill::stream_entry& e, rill::async_context ctx) {
  auto conn = ctx.shared_conn;
  auto order = *e.find("order");
  auto customer = *e.find("customer");
  auto hset = rill::make_command(
    {"HSET", "order:" + order, "customer", customer, "amount_cents", *e.find("amount_cents")});
  auto sadd = rill::make_command({"SADD", "customer:" + customer + ":orders", order});
  auto self = ctx.self;
  auto done = ctx.done;
  auto failed = [done](caf::error& err) {
    done(std::move(err));
  };
  self->request(conn, 5s, std::move(hset))
    .then(
      [self, conn, sadd, done, failed](const rill::redis_reply&) mutable {
        self->request(conn, 5s, std::move(sadd))
          .then([done](const rill::redis_reply&) { done(); }, failed);
      },
      failed);
}

} // namespace

int main(int argc, char** argv) {
  rill::callback_registry callbacks;
  callbacks.add("validate", validate);
  callbacks.add_async("store", store);
  return rill::node_main(argc, argv, callbacks);
}
