// The reader's recovery paths for entries it holds: redelivering failed
// entries (the retry queue keeps them), delivery counts of entries Redis
// delivered before, dead letters.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace rill::detail {

namespace {

/// Per-entry events are warnings, but a flood must not drown the log.
bool worth_logging(uint64_t n) {
  return n <= 10 || n % 1000 == 0;
}

/// With order_by and max_key_hold: the reason to dead-letter a failing
/// holder that has held its key that long since its first failure (which it
/// notes), or nothing.
std::optional<std::string> key_hold(reader_ptr self, const stream_entry& entry) {
  auto& st = self->state;
  // An entry without the field holds no key: only max_deliveries ends it.
  if (!st.keys.enabled() || st.opts.max_key_hold.count() <= 0 || !st.keys.is_holder(entry.id))
    return std::nullopt;
  auto now = self->clock().now();
  auto first = st.first_failed.emplace(entry.id, now).first->second;
  if (now - first < st.opts.max_key_hold)
    return std::nullopt;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - first).count();
  return "held its key (" + st.keys.name() + ") for " + std::to_string(ms)
         + " ms since its first failure (consumer.max-key-hold)";
}

/// The entries an XCLAIM returned (none, with a warning, if the reply is
/// malformed: they stay pending and come back by a later scan or claim).
std::vector<stream_entry> claimed_entries(reader_ptr self, redis_reply&& reply) {
  auto entries = parse_claimed_entries(std::move(reply));
  if (entries)
    return std::move(*entries);
  spdlog::warn("consumer {}: {}", label(self->state), describe(entries.error()));
  return {};
}

void arm_redeliver(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (auto delay = st.retries.arm(self->clock().now()))
    self->delayed_send(self, *delay, redeliver_atom::value);
}

void arm_dead_retry(reader_ptr self) {
  auto& st = self->state;
  if (st.dead_retry_armed || st.retries.dead() == 0)
    return;
  st.dead_retry_armed = true;
  self->delayed_send(self, st.dead_retry_backoff.next(), dead_retry_atom::value);
}

} // namespace

void dead_letter(reader_ptr self, stream_entry entry, std::string reason) {
  auto& st = self->state;
  ++st.dead_in_flight;
  auto cmd = rill::dead_letter(st.opts.stream, st.opts.group, st.dead_stream, entry,
                               st.opts.consumer, reason);
  auto item = std::make_shared<dead_item>(dead_item{entry.id, std::move(reason)});
  auto deliveries = entry.deliveries;
  st.in_transit.insert(entry.id);
  entry = stream_entry{}; // the command holds the fields now
  ask(self, st.shared_conn, st.opts.request_timeout, std::move(cmd))
    .then(
      [self, item, deliveries](redis_reply&) {
        auto& st = self->state;
        --st.dead_in_flight;
        st.in_transit.erase(item->id);
        settled(self, item->id);
        if (st.dead_retry_backoff.attempts() > 0)
          spdlog::info("consumer {}: dead letters are written to {} again", label(st),
                       st.dead_stream);
        st.dead_retry_backoff.reset();
        auto n = st.metrics->dead_lettered.fetch_add(1, std::memory_order_relaxed) + 1;
        if (worth_logging(n))
          spdlog::warn("consumer {}: entry {} dead-lettered to {} after {} deliveries ({} so "
                       "far): {}",
                       label(st), item->id, st.dead_stream, deliveries, n, item->reason);
        step(self);
      },
      [self, item](caf::error& err) {
        // Nothing was written and nothing acked (the script stops at the
        // first error): the entry stays pending for us. Keep only its ID and
        // try again after a backoff; its worker and credit are free already.
        auto& st = self->state;
        --st.dead_in_flight;
        st.in_transit.erase(item->id);
        st.metrics->dead_letter_failures.fetch_add(1, std::memory_order_relaxed);
        if (st.dead_retry_backoff.attempts() == 0 && st.retries.dead() == 0)
          spdlog::error("consumer {}: cannot write dead letter for {} to {}; the entry stays "
                        "pending and is tried again with backoff (one line per streak): {}",
                        label(st), item->id, st.dead_stream, describe(err));
        st.retries.dead_failed(std::move(*item));
        arm_dead_retry(self);
        step(self);
      });
}

void admit_redelivered(reader_ptr self, std::vector<stream_entry> entries) {
  auto& st = self->state;
  if (entries.empty())
    return;
  auto n = static_cast<uint32_t>(entries.size());
  st.annotating += n;
  auto first = entries.front().id;
  auto last = entries.back().id;
  auto batch = std::make_shared<std::vector<stream_entry>>(std::move(entries));
  for (auto& e : *batch)
    st.in_transit.insert(e.id);
  // Our own pending entries between first and last: the batch plus, at most,
  // the ones we hold right now (those waiting behind their keys included).
  auto cmd
    = xpending_range(st.opts.stream, st.opts.group, first, last,
                     n + st.slots.size() + st.held() + st.keys.waiting() + 16, st.opts.consumer);
  auto admit = [self, batch, n](const std::unordered_map<std::string, uint32_t>* counts) {
    auto& st = self->state;
    st.annotating -= n;
    for (auto& e : *batch)
      st.in_transit.erase(e.id);
    for (auto& e : *batch) {
      if (counts != nullptr) {
        auto i = counts->find(e.id);
        if (i == counts->end())
          continue; // no longer ours: acked, or claimed by another consumer
        e.deliveries = i->second;
      }
      if (e.deliveries > st.opts.max_deliveries) {
        auto reason = "delivered " + std::to_string(e.deliveries)
                      + " times without being acked (its consumers died or hung on it)";
        dead_letter(self, std::move(e), std::move(reason));
      } else {
        st.waiting.emplace_back(std::move(e));
      }
    }
    step(self);
  };
  ask(self, st.shared_conn, st.opts.request_timeout, std::move(cmd))
    .then(
      [self, admit](redis_reply& reply) {
        auto counts = parse_delivery_counts(reply);
        if (!counts)
          spdlog::warn("consumer {}: {}", label(self->state), describe(counts.error()));
        admit(counts ? &*counts : nullptr);
      },
      [self, admit](caf::error& err) {
        // Unknown counts: deliver anyway (at least once beats stuck).
        spdlog::debug("consumer {}: no delivery counts: {}", label(self->state), describe(err));
        admit(nullptr);
      });
}

void on_failure(reader_ptr self, stream_entry entry, const caf::error& err) {
  auto& st = self->state;
  auto n = st.metrics->failed.fetch_add(1, std::memory_order_relaxed) + 1;
  if (worth_logging(n))
    spdlog::warn("consumer {}: entry {} failed on delivery {} ({} failures so far): {}", label(st),
                 entry.id, entry.deliveries, n, describe(err));
  if (code_of(err) == sec::permanent_failure) {
    dead_letter(self, std::move(entry), describe(err));
  } else if (entry.deliveries >= st.opts.max_deliveries) {
    auto reason = "failed " + std::to_string(entry.deliveries)
                  + " deliveries, the last with: " + describe(err);
    dead_letter(self, std::move(entry), std::move(reason));
  } else if (auto held = key_hold(self, entry)) {
    dead_letter(self, std::move(entry), std::move(*held));
  } else {
    auto now = self->clock().now();
    auto delay = backoff_delay(st.opts.redeliver_base, st.opts.redeliver_cap, entry.deliveries - 1);
    if (auto first = st.first_failed.find(entry.id); first != st.first_failed.end())
      delay = std::min<caf::timespan>(delay, first->second + st.opts.max_key_hold - now);
    st.retries.schedule(std::move(entry), now + delay);
    arm_redeliver(self);
  }
}

void redeliver_due(reader_ptr self) {
  auto& st = self->state;
  if (st.retries.retries() == 0 || st.stopping)
    return;
  // Room for redeliveries: idle workers not spoken for by entries that reach
  // a worker before them.
  auto free = st.slots.free_workers(st.waiting.size() + st.annotating + st.reclaiming);
  std::vector<std::string> ids;
  auto known = std::make_shared<std::unordered_map<std::string, uint32_t>>();
  // The actor clock: virtual time under the test coordinator.
  for (auto& item : st.retries.take_due(self->clock().now(), free)) {
    ids.push_back(item.entry.id);
    st.in_transit.insert(item.entry.id);
    (*known)[item.entry.id] = item.entry.deliveries;
  }
  if (!ids.empty()) {
    auto n = static_cast<uint32_t>(ids.size());
    st.reclaiming += n;
    // XCLAIM to ourselves bumps Redis' delivery count (so it stays right
    // across restarts), resets the idle time and returns the entry as it is
    // now; an entry deleted meanwhile is not returned.
    ask(self, st.shared_conn, st.opts.request_timeout,
        xclaim(st.opts.stream, st.opts.group, st.opts.consumer, ids, false))
      .then(
        [self, known, n](redis_reply& reply) {
          auto& st = self->state;
          st.reclaiming -= n;
          for (auto& [id, count] : *known)
            st.in_transit.erase(id);
          for (auto& e : claimed_entries(self, std::move(reply))) {
            e.deliveries = (*known)[e.id] + 1;
            known->erase(e.id);
            st.metrics->redelivered.fetch_add(1, std::memory_order_relaxed);
            st.waiting.emplace_back(std::move(e));
          }
          // Not returned: deleted or trimmed from the stream.
          for (auto& [id, count] : *known) {
            st.metrics->deleted.fetch_add(1, std::memory_order_relaxed);
            settled(self, id);
            ack_later(self, id);
          }
          step(self);
        },
        [self, known, n](caf::error& err) {
          // Put them back; they are still pending for us in Redis. (Not a
          // re-read of the whole own pending list: that would count another
          // delivery for every entry in a worker.)
          auto& st = self->state;
          st.reclaiming -= n;
          spdlog::debug("consumer {}: redelivery XCLAIM failed: {}", label(st), describe(err));
          auto due = self->clock().now() + st.retry.next();
          for (auto& [id, count] : *known) {
            st.in_transit.erase(id);
            stream_entry e;
            e.id = id;
            e.deliveries = count;
            st.retries.schedule(std::move(e), due);
          }
          arm_redeliver(self);
          step(self);
        });
  }
  arm_redeliver(self);
}

void retry_dead_letters(reader_ptr self) {
  auto& st = self->state;
  if (st.retries.dead() == 0 || st.stopping)
    return;
  // A few at a time: each comes back with all its fields.
  auto items = st.retries.take_dead(16);
  auto n = items.size();
  auto reasons = std::make_shared<std::unordered_map<std::string, std::string>>();
  std::vector<std::string> ids;
  for (auto& item : items) {
    ids.push_back(item.id);
    st.in_transit.insert(item.id);
    (*reasons)[item.id] = std::move(item.reason);
  }
  st.dead_fetching += static_cast<uint32_t>(n);
  ask(self, st.shared_conn, st.opts.request_timeout,
      xclaim(st.opts.stream, st.opts.group, st.opts.consumer, ids, false))
    .then(
      [self, reasons, n](redis_reply& reply) {
        auto& st = self->state;
        st.dead_fetching -= static_cast<uint32_t>(n);
        for (auto& [id, reason] : *reasons)
          st.in_transit.erase(id);
        for (auto& e : claimed_entries(self, std::move(reply))) {
          auto reason = std::move((*reasons)[e.id]);
          reasons->erase(e.id);
          dead_letter(self, std::move(e), std::move(reason));
        }
        for (auto& [id, reason] : *reasons) { // deleted meanwhile: nothing to keep
          st.metrics->deleted.fetch_add(1, std::memory_order_relaxed);
          settled(self, id);
          ack_later(self, id);
        }
        retry_dead_letters(self);
        step(self);
      },
      [self, reasons, n](caf::error& err) {
        auto& st = self->state;
        st.dead_fetching -= static_cast<uint32_t>(n);
        for (auto& [id, reason] : *reasons)
          st.in_transit.erase(id);
        spdlog::debug("consumer {}: dead-letter XCLAIM failed: {}", label(st), describe(err));
        for (auto& [id, reason] : *reasons)
          st.retries.dead_failed(dead_item{id, std::move(reason)});
        arm_dead_retry(self);
        step(self);
      });
}

} // namespace rill::detail
