// The reader's worker slots: workers offer credits, go down, or are withdrawn
// when their node stops. The slot table (actors/reader/slot_table.hpp) keeps
// the states; this file adds the messages, logs and metrics around them.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>

#include <spdlog/spdlog.h>

namespace rill::detail {

namespace {

/// Answers the withdrawn relays whose workers hold nothing any more.
void settle_withdrawals(reader_ptr self) {
  auto& w = self->state.withdrawals;
  for (auto i = w.begin(); i != w.end();) {
    if (self->state.slots.relay_busy(i->relay)) {
      ++i;
      continue;
    }
    i->done.deliver(drained_atom::value);
    i = w.erase(i);
  }
}

} // namespace

void add_worker(reader_ptr self, caf::actor relay) {
  auto worker = caf::actor_cast<caf::actor>(self->current_sender());
  if (!worker)
    return;
  self->monitor(worker);
  self->state.slots.add(std::move(worker), std::move(relay));
}

caf::result<drained_atom> withdraw(reader_ptr self) {
  auto& st = self->state;
  auto relay = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto n = st.slots.withdraw(relay);
  spdlog::info("consumer {}: {} remote workers withdrawn (their node stops)", label(st), n);
  if (!st.slots.relay_busy(relay))
    return drained_atom::value;
  auto rp = self->make_response_promise<drained_atom>();
  st.withdrawals.push_back(withdrawal{relay, rp});
  return rp;
}

void release(reader_ptr self, uint32_t index) {
  auto& st = self->state;
  bool idle_again = st.slots.release(index);
  st.metrics->in_flight.store(st.slots.busy(), std::memory_order_relaxed);
  if (!idle_again)
    settle_withdrawals(self);
}

void close_worker_streak(reader_ptr self) {
  auto& st = self->state;
  auto n = st.worker_deaths.close();
  st.streak_redelivered = false;
  if (n > 1)
    spdlog::warn("consumer {}: {} workers went down in this streak ({} entries redelivered "
                 "so far)",
                 label(st), n, st.metrics->redelivered.load());
}

/// A worker (or its node) went away. Its entry is still pending in Redis for
/// this consumer: take it again (XCLAIM, like a retry) for another worker. A
/// worker that died of a callback's fault has spawned its replacement, which
/// offers a new credit.
void on_worker_down(reader_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (auto& held : st.slots.worker_down(msg.source)) {
    st.metrics->workers_down.fetch_add(1, std::memory_order_relaxed);
    bool first = st.worker_deaths.hit();
    if (first)
      self->delayed_send(self, std::chrono::seconds{1}, streak_atom::value);
    // One line for the streak, and one for its first redelivery if the first
    // worker down held nothing.
    if (first || (!held.empty() && !st.streak_redelivered)) {
      spdlog::warn("consumer {}: a worker went down ({}){}", label(st), describe(msg.reason),
                   held.empty() ? "" : "; redelivering its entry " + held);
      st.streak_redelivered = st.streak_redelivered || !held.empty();
    }
    if (msg.reason && msg.reason != caf::exit_reason::normal)
      st.metrics->set_last_error("worker went down: " + describe(msg.reason));
    if (!held.empty()) {
      stream_entry lost;
      lost.id = std::move(held);
      st.retries.schedule(std::move(lost), self->clock().now());
    }
  }
  st.metrics->in_flight.store(st.slots.busy(), std::memory_order_relaxed);
  settle_withdrawals(self);
}

} // namespace rill::detail
