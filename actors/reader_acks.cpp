// The reader's delivery side: hand each entry to one idle worker, take its
// ack or nack back, batch acks into XACKs (the ack batcher decides when).

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rill::detail {

// -- 3. hand each entry to one idle worker ----------------------------------------------

void dispatch(reader_ptr self, stream_entry&& entry) {
  auto& st = self->state;
  auto index = st.slots.acquire(entry.id, self->clock().now());
  const auto& s = st.slots[index];
  auto busy = st.slots.busy();
  if (st.metrics->delivered.fetch_add(1, std::memory_order_relaxed) == 0)
    st.metrics->first_delivery_ns = steady_now_ns();
  st.metrics->in_flight.store(busy, std::memory_order_relaxed);
  if (busy > st.metrics->max_in_flight_seen.load(std::memory_order_relaxed))
    st.metrics->max_in_flight_seen.store(busy, std::memory_order_relaxed);
  if (!s.relay) {
    self->send(s.worker, delivery{index, std::move(entry)});
    return;
  }
  if (st.outbox.empty())
    self->send(self, send_atom::value);
  auto batch = std::find_if(st.outbox.begin(), st.outbox.end(),
                            [&](const auto& out) { return out.first == s.relay; });
  if (batch == st.outbox.end())
    batch = st.outbox.emplace(st.outbox.end(), s.relay, delivery_batch{});
  batch->second.workers.push_back(s.worker.id());
  batch->second.items.push_back(delivery{index, std::move(entry)});
}

// -- 4. acks back, batched into XACK ----------------------------------------------------

void flush(reader_ptr self) {
  auto& st = self->state;
  auto ids = st.acks.take();
  if (!ids)
    return;
  auto sent = steady::now();
  ask(self, st.shared_conn, caf::infinite, xack(st.opts.stream, st.opts.group, *ids)) // see read()
    .then(
      [self, ids, sent](redis_reply&) {
        auto& st = self->state;
        auto now = steady::now();
        st.metrics->xack_rtt.observe(now - sent);
        st.metrics->last_ack_ns.store(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
          std::memory_order_relaxed);
        st.acks.confirmed(ids);
        if (st.ack_failures.open())
          spdlog::info("consumer {}: XACK works again ({} attempts had failed)", label(st),
                       st.ack_failures.close());
        st.ack_retry.reset();
        st.metrics->acked.fetch_add(ids->size(), std::memory_order_relaxed);
        st.metrics->ack_batches.fetch_add(1, std::memory_order_relaxed);
        step(self);
      },
      [self, ids](caf::error& err) {
        // XACK is idempotent: keep the IDs and try again, or the entries would
        // be processed again after a restart.
        auto& st = self->state;
        st.metrics->ack_failures.fetch_add(1, std::memory_order_relaxed);
        if (st.ack_failures.hit())
          spdlog::warn("consumer {}: XACK of {} IDs failed, retrying (one line until it works "
                       "again): {}",
                       label(st), ids->size(), describe(err));
        else
          spdlog::debug("consumer {}: XACK of {} IDs failed again: {}", label(st), ids->size(),
                        describe(err));
        if (st.acks.failed(ids)) {
          // Loading after a restart: it serves in a moment (see fail()).
          auto delay = code_of(err) == sec::server_busy ? st.opts.retry_min : st.ack_retry.next();
          self->delayed_send(self, delay, flush_atom::value);
        }
        step(self);
      });
}

void on_ack(reader_ptr self, uint32_t index, std::string id) {
  auto& st = self->state;
  if (st.slots.holding(index, id) == nullptr) {
    spdlog::warn("consumer {}: stale ack for {} ignored", label(st), id);
    return;
  }
  st.metrics->processed.fetch_add(1, std::memory_order_relaxed);
  release(self, index);
  settled(self, id);
  ack_later(self, std::move(id));
}

void settled(reader_ptr self, const std::string& id) {
  auto& st = self->state;
  if (!st.keys.enabled())
    return;
  if (!st.first_failed.empty())
    st.first_failed.erase(id);
  // A stopping reader starts nothing new: what waits stays pending in Redis.
  if (auto next = st.keys.settle(id); next && !st.stopping)
    st.waiting.push_front(std::move(*next));
  fetch_parked(self); // its queue is down to half with entries parked: read them back
}

void on_nack(reader_ptr self, uint32_t index, stream_entry&& entry, const caf::error& err) {
  auto& st = self->state;
  if (st.slots.holding(index, entry.id) == nullptr) {
    spdlog::warn("consumer {}: stale nack for {} ignored", label(st), entry.id);
    return;
  }
  release(self, index);
  on_failure(self, std::move(entry), err);
}

void ack_later(reader_ptr self, std::string id) {
  auto& st = self->state;
  after_add(self, st.acks.add(std::move(id)), flush, flush_atom::value);
}

} // namespace rill::detail
