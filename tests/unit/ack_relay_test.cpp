#define CAF_SUITE ack_relay
// The ack relay of a worker pool serving a reader on another node: batching
// acks per burst, handing entries to workers by id, withdrawal.
#include "reader_fixture.hpp"

using namespace rill;
using namespace rill::testing;

namespace {

/// A relay for `n` entries handed to workers that keep them, and what it sends
/// on to the reader.
struct relay_probe {
  std::shared_ptr<std::vector<ack_batch>> batches = std::make_shared<std::vector<ack_batch>>();
  std::shared_ptr<std::vector<std::string>> nacked = std::make_shared<std::vector<std::string>>();
  caf::actor sink;
  caf::actor relay;
  std::vector<caf::actor> workers;
};

relay_probe make_relay(caf::actor_system& sys, caf::timespan linger) {
  relay_probe p;
  p.sink = sys.spawn([b = p.batches, nk = p.nacked](caf::event_based_actor*) -> caf::behavior {
    return {
      [b](ack_batch& x) { b->push_back(std::move(x)); },
      [nk](nack_atom, uint32_t, stream_entry& e, caf::error&) { nk->push_back(e.id); },
    };
  });
  p.relay = spawn_ack_relay(sys, p.sink, linger, std::chrono::seconds{1});
  return p;
}

/// Hands slots [from, to) to the relay as one delivery batch (one burst), each
/// to a new worker; `run` lets the workers register with the relay first.
template <class Run>
void deliver(caf::actor_system& sys, relay_probe& p, uint32_t from, uint32_t to, Run run) {
  delivery_batch batch;
  for (uint32_t i = from; i < to; ++i) {
    p.workers.push_back(sys.spawn([relay = p.relay](caf::event_based_actor* self) -> caf::behavior {
      self->send(relay, credit_atom::value); // as a worker registers with its relay
      return {[](delivery&) {
      }};
    }));
    batch.workers.push_back(p.workers.back().id());
    batch.items.push_back(delivery{i, stream_entry{"1-" + std::to_string(i), {}}});
  }
  run();
  caf::anon_send(p.relay, std::move(batch));
}

void kill_all(const relay_probe& p) {
  for (auto& a : p.workers)
    caf::anon_send_exit(a, caf::exit_reason::kill);
  caf::anon_send_exit(p.sink, caf::exit_reason::kill);
}

void ack(const relay_probe& p, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; ++i)
    caf::anon_send(p.relay, ack_atom::value, i, "1-" + std::to_string(i));
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(ack_relay_tests, fixture)

CAF_TEST(an ack relay without linger forwards each burst of acks as one batch in order) {
  auto p = make_relay(sys, caf::timespan{0});
  deliver(sys, p, 0, 8, [this] { consume_messages(); });
  consume_messages();
  ack(p, 0, 5);
  consume_messages();
  ack(p, 5, 7);
  consume_messages();
  CAF_REQUIRE_EQUAL(p.batches->size(), 2u);
  CAF_CHECK_EQUAL((*p.batches)[0].slots, (std::vector<uint32_t>{0, 1, 2, 3, 4}));
  CAF_CHECK_EQUAL((*p.batches)[0].ids.back(), "1-4");
  CAF_CHECK_EQUAL((*p.batches)[1].slots, (std::vector<uint32_t>{5, 6}));
  kill_all(p);
  consume_messages();
}

CAF_TEST(an ack relay holds acks for its linger or until their burst is done) {
  auto p = make_relay(sys, std::chrono::microseconds{200});
  deliver(sys, p, 0, 6, [this] { consume_messages(); });
  deliver(sys, p, 6, 8, [this] { consume_messages(); });
  consume_messages();
  ack(p, 0, 2);
  consume_messages();
  ack(p, 2, 3);
  consume_messages();
  CAF_CHECK_EQUAL(p.batches->size(), 0u); // 3 entries of the burst still held: waits
  advance_time(std::chrono::microseconds{200});
  consume_messages();
  CAF_REQUIRE_EQUAL(p.batches->size(), 1u);
  CAF_CHECK_EQUAL((*p.batches)[0].slots, (std::vector<uint32_t>{0, 1, 2}));
  // A nack goes on at once and counts as done.
  caf::anon_send(p.relay, nack_atom::value, uint32_t{3}, stream_entry{"1-3", {}},
                 make_error(sec::callback_failed, "x"));
  ack(p, 4, 5);
  consume_messages();
  CAF_CHECK_EQUAL(*p.nacked, (std::vector<std::string>{"1-3"}));
  CAF_CHECK_EQUAL(p.batches->size(), 1u);
  ack(p, 6, 7);
  ack(p, 5, 6); // the last entry of the first burst: no reason to wait
  consume_messages();
  CAF_REQUIRE_EQUAL(p.batches->size(), 2u);
  CAF_CHECK_EQUAL((*p.batches)[1].slots, (std::vector<uint32_t>{4, 6, 5}));
  ack(p, 7, 8); // and of the second
  consume_messages();
  CAF_REQUIRE_EQUAL(p.batches->size(), 3u);
  CAF_CHECK_EQUAL((*p.batches)[2].slots, (std::vector<uint32_t>{7}));
  advance_time(std::chrono::milliseconds{1}); // the old timers: no empty batch
  consume_messages();
  CAF_CHECK_EQUAL(p.batches->size(), 3u);
  kill_all(p);
  consume_messages();
}

CAF_TEST(an ack relay hands each entry to the worker named by its id and returns the rest) {
  auto p = make_relay(sys, caf::timespan{0});
  auto got = std::make_shared<std::vector<std::string>>();
  auto spawn_recording = [&](std::string name) {
    p.workers.push_back(
      sys.spawn([relay = p.relay, got, name](caf::event_based_actor* self) -> caf::behavior {
        self->send(relay, credit_atom::value);
        return {[got, name](delivery& d) {
          got->push_back(name + ":" + d.entry.id);
        }};
      }));
    return p.workers.back().id();
  };
  auto a = spawn_recording("a");
  auto b = spawn_recording("b");
  consume_messages();
  delivery_batch batch;
  for (auto [slot, worker] : {std::pair{0u, b}, std::pair{1u, a}, std::pair{2u, b + 1000}}) {
    batch.workers.push_back(worker);
    batch.items.push_back(delivery{slot, stream_entry{"1-" + std::to_string(slot), {}}});
  }
  caf::anon_send(p.relay, std::move(batch));
  consume_messages();
  CAF_CHECK_EQUAL(*got, (std::vector<std::string>{"b:1-0", "a:1-1"}));
  CAF_CHECK_EQUAL(*p.nacked, (std::vector<std::string>{"1-2"})); // no such worker: back
  kill_all(p);
  consume_messages();
}

CAF_TEST(workers acking through a relay keep the credit bound and ack everything) {
  fill(20);
  callbacks->add_async(hold());
  start(options(4), true);
  CAF_CHECK_EQUAL(data->handed_out, 4u);
  release_from(0);
  flush();
  CAF_CHECK_EQUAL(data->handed_out, 20u);
  CAF_CHECK_EQUAL(data->acked.size(), 20u);
  CAF_CHECK_EQUAL(metrics->processed.load(), 20u);
  CAF_CHECK_EQUAL(metrics->max_in_flight_seen.load(), 4u);
}

CAF_TEST(withdrawn remote workers finish what they hold and get nothing new) {
  fill(20);
  callbacks->add_async(hold());
  auto opts = options(4);
  start(opts, true);
  CAF_REQUIRE_EQUAL(held.size(), 4u);
  auto relay_gone = std::make_shared<bool>(false);
  caf::actor_cast<caf::abstract_actor*>(relay)->attach_functor(
    [relay_gone] { *relay_gone = true; });
  caf::anon_send(relay, withdraw_atom::value); // the worker node stops
  caf::anon_send(relay, withdraw_atom::value); // twice: no harm
  consume_messages();
  CAF_CHECK(!*relay_gone); // waits for the four entries its workers hold
  release_from(0);
  flush();
  CAF_CHECK_EQUAL(data->handed_out, 4u); // nothing new for withdrawn workers
  CAF_CHECK_EQUAL(data->acked.size(), 4u);
  CAF_CHECK_EQUAL(metrics->processed.load(), 4u);
  CAF_CHECK(*relay_gone); // drained: the node may go
  CAF_CHECK_EQUAL(metrics->in_flight.load(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
