// The reader's effects side (docs/exactly-once.md): an entry whose callbacks
// staged Redis writes is not acked by XACK but by the effects script, which
// applies its writes and its XACK in one atomic step behind a fence. Batched
// like acks; one script in flight at a time, so the effects of entries apply
// in the order their entries finished (with consumer.order-by: stream order
// per key), also across retries.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/effect_script.hpp>

#include <spdlog/spdlog.h>

namespace rill::detail {

namespace {

/// Worth sending the same script again: Redis is away, busy, failing over,
/// or lost the script (NOSCRIPT; then it goes as EVAL).
bool transient(const caf::error& err) {
  if (is_unreachable(err) || code_of(err) == sec::server_busy)
    return true;
  auto text = context_text(err);
  // (LOADING, BUSY, MASTERDOWN and TRYAGAIN are server_busy already.)
  for (auto prefix : {"NOSCRIPT", "READONLY", "CLUSTERDOWN", "OOM"})
    if (text.rfind(prefix, 0) == 0)
      return true;
  return false;
}

bool worth_logging(uint64_t n) {
  return n <= 10 || n % 1000 == 0;
}

void settle_outcome(reader_ptr self, effect_item& item, const effect_outcome& out) {
  auto& st = self->state;
  auto& m = *st.metrics;
  switch (out.what) {
    case effect_outcome::kind::applied:
      m.effects_applied.fetch_add(1, std::memory_order_relaxed);
      m.acked.fetch_add(1, std::memory_order_relaxed);
      settled(self, item.entry.id);
      return;
    case effect_outcome::kind::fenced: {
      // Not ours any more: the consumer that claimed it applies its effects
      // (or did). If it is still ours with another delivery count (a count
      // this reader could not learn), the orphan scan hands it out again.
      auto n = m.fenced.fetch_add(1, std::memory_order_relaxed) + 1;
      if (worth_logging(n))
        spdlog::warn("consumer {}: entry {} fenced, its effects not applied ({} so far): {}",
                     label(st), item.entry.id, n, out.detail);
      settled(self, item.entry.id);
      return;
    }
    case effect_outcome::kind::failed:
      on_failure(self, std::move(item.entry),
                 make_error(sec::callback_failed, "effects not applied: " + out.detail));
      return;
  }
}

void on_script_error(reader_ptr self, const std::shared_ptr<std::vector<effect_item>>& batch,
                     caf::error& err) {
  auto& st = self->state;
  st.metrics->effect_script_failures.fetch_add(1, std::memory_order_relaxed);
  if (!transient(err) && batch->size() == 1) {
    // Refused for this entry alone: a failure of the entry (retried, then
    // dead-lettered), as if its callback had failed.
    st.effects.confirmed(batch);
    on_failure(self, std::move(batch->front().entry), err);
    return;
  }
  bool noscript = context_text(err).rfind("NOSCRIPT", 0) == 0;
  if (noscript)
    st.effects_by_text = true;
  else if (!transient(err))
    st.effects_single += batch->size(); // each entry gets its own answer
  if (!noscript && st.effect_failures.hit())
    spdlog::warn("consumer {}: effects script for {} entries failed, retrying (one line until "
                 "it works again): {}",
                 label(st), batch->size(), describe(err));
  st.effects.failed(batch); // in front again: the fence makes a repeat harmless
  if (noscript || !transient(err))
    self->send(self, effects_flush_atom::value);
  else
    self->delayed_send(self, st.effects_retry.next(), effects_flush_atom::value);
}

/// One script carries at most this many bytes of effects (a larger entry
/// goes alone): Redis closes a client whose command passes its query buffer
/// limit (1 GB), which would fail the same batch again and again.
constexpr size_t max_script_bytes = 16 << 20;

/// How many of the oldest waiting entries fit in one script.
size_t within_bytes(const std::vector<effect_item>& waiting) {
  size_t bytes = 0;
  for (size_t i = 0; i < waiting.size(); ++i) {
    for (const auto& fx : waiting[i].effects) {
      bytes += fx.key.size() + fx.op.size() + 16;
      for (const auto& a : fx.args)
        bytes += a.size() + 8;
    }
    if (bytes > max_script_bytes)
      return std::max<size_t>(i, 1);
  }
  return waiting.size();
}

} // namespace

void on_effects(reader_ptr self, uint32_t index, stream_entry&& entry, std::vector<effect>&& fx) {
  auto& st = self->state;
  if (st.slots.holding(index, entry.id) == nullptr) {
    spdlog::warn("consumer {}: stale effects for {} ignored", label(st), entry.id);
    return;
  }
  st.metrics->processed.fetch_add(1, std::memory_order_relaxed);
  release(self, index);
  after_add(self, st.effects.add(effect_item{std::move(entry), std::move(fx)}), flush_effects,
            effects_flush_atom::value);
}

void flush_effects(reader_ptr self) {
  auto& st = self->state;
  if (st.effects.batches_in_flight() > 0)
    return; // the reply sends what gathered meanwhile
  auto batch = st.effects.take(st.effects_single > 0 ? 1 : within_bytes(st.effects.waiting()));
  if (!batch)
    return;
  if (st.effects_single > 0)
    --st.effects_single;
  // Everything of ours that can be pending: the batch's range holds no more.
  auto bound = batch->size() + st.slots.size() + st.held() + st.keys.waiting() + st.keys.parked()
               + st.acks.unflushed() + st.effects.unflushed() + st.in_transit.size() + 16;
  auto cmd = apply_effects(st.opts.stream, st.opts.group, st.opts.consumer, *batch, bound,
                           st.effects_by_text);
  // No deadline of its own, like XACK (see flush()): the connection's
  // deadline fails it, and the fence makes sending it again harmless.
  ask(self, st.shared_conn, caf::infinite, std::move(cmd))
    .then(
      [self, batch](redis_reply& reply) {
        auto& st = self->state;
        st.metrics->effect_scripts.fetch_add(1, std::memory_order_relaxed);
        auto outcomes = parse_effect_outcomes(reply, batch->size());
        if (!outcomes) {
          on_script_error(self, batch, outcomes.error());
          step(self);
          return;
        }
        st.effects_by_text = false; // EVAL cached it
        st.effects.confirmed(batch);
        if (st.effect_failures.open())
          spdlog::info("consumer {}: effects scripts work again ({} attempts had failed)",
                       label(st), st.effect_failures.close());
        st.effects_retry.reset();
        for (size_t i = 0; i < batch->size(); ++i)
          settle_outcome(self, (*batch)[i], (*outcomes)[i]);
        if (st.effects.pending() > 0)
          flush_effects(self);
        step(self);
      },
      [self, batch](caf::error& err) {
        on_script_error(self, batch, err);
        step(self);
      });
}

} // namespace rill::detail
