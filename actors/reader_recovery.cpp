// The reader's recovery paths: redelivering failed entries, dead letters,
// claiming entries of dead consumers, lease renewal, removing idle consumers.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

namespace rill::detail {

namespace {

using entries_ptr = std::shared_ptr<std::vector<stream_entry>>;

/// Per-entry events are warnings, but a flood must not drown the log.
bool worth_logging(uint64_t n) {
  return n <= 10 || n % 1000 == 0;
}

void dead_letter(reader_ptr self, stream_entry entry, std::string reason);

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
  if (st.retries.empty() || st.stopping)
    return;
  auto earliest
    = std::min_element(st.retries.begin(), st.retries.end(),
                       [](const retry_item& x, const retry_item& y) { return x.due < y.due; })
        ->due;
  if (st.redeliver_armed && st.redeliver_at <= earliest)
    return;
  st.redeliver_armed = true;
  st.redeliver_at = earliest;
  auto delay = std::max<steady::duration>(earliest - self->clock().now(), steady::duration{0});
  self->delayed_send(self, delay, redeliver_atom::value);
}

void arm_dead_retry(reader_ptr self) {
  auto& st = self->state;
  if (st.dead_retry_armed || st.dead_retry.empty())
    return;
  st.dead_retry_armed = true;
  self->delayed_send(self, st.dead_retry_backoff.next(), dead_retry_atom::value);
}

void dead_letter(reader_ptr self, stream_entry entry, std::string reason) {
  auto& st = self->state;
  ++st.dead_in_flight;
  auto cmd = rill::dead_letter(st.opts.stream, st.opts.group, st.dead_stream, entry,
                               st.opts.consumer, reason);
  auto item = std::make_shared<dead_item>(dead_item{entry.id, std::move(reason)});
  auto deliveries = entry.deliveries;
  st.in_transit.insert(entry.id);
  entry = stream_entry{}; // the command holds the fields now
  self->request(st.commands, st.opts.request_timeout, std::move(cmd))
    .then(
      [self, item, deliveries](redis_reply&) {
        auto& st = self->state;
        --st.dead_in_flight;
        st.in_transit.erase(item->id);
        if (st.dead_retry_backoff.attempts() > 0)
          spdlog::info("consumer {}: dead letters are written to {} again", label(st),
                       st.dead_stream);
        st.dead_retry_backoff.reset();
        auto n = st.metrics->dead_lettered.fetch_add(1, std::memory_order_relaxed) + 1;
        if (worth_logging(n))
          spdlog::warn("consumer {}: entry {} dead-lettered to {} after {} deliveries ({} so "
                       "far): {}",
                       label(st), item->id, st.dead_stream, deliveries, n, item->reason);
        maybe_read(self);
        check_done(self);
      },
      [self, item](caf::error& err) {
        // Nothing was written and nothing acked (the script stops at the
        // first error): the entry stays pending for us. Keep only its ID and
        // try again after a backoff; its worker and credit are free already.
        auto& st = self->state;
        --st.dead_in_flight;
        st.in_transit.erase(item->id);
        st.metrics->dead_letter_failures.fetch_add(1, std::memory_order_relaxed);
        if (st.dead_retry_backoff.attempts() == 0 && st.dead_retry.empty())
          spdlog::error("consumer {}: cannot write dead letter for {} to {}; the entry stays "
                        "pending and is tried again with backoff (one line per streak): {}",
                        label(st), item->id, st.dead_stream, describe(err));
        st.dead_retry.push_back(std::move(*item));
        arm_dead_retry(self);
        maybe_read(self);
        check_done(self);
      });
}

} // namespace

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
  // the ones we hold right now.
  auto cmd = xpending_range(st.opts.stream, st.opts.group, first, last,
                            n + st.slots.size() + st.held() + 16, st.opts.consumer);
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
    dispatch_waiting(self);
    maybe_read(self);
    check_done(self);
  };
  self->request(st.commands, st.opts.request_timeout, std::move(cmd))
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
  } else {
    auto delay = backoff_delay(st.opts.redeliver_base, st.opts.redeliver_cap, entry.deliveries - 1);
    st.retries.push_back(retry_item{self->clock().now() + delay, std::move(entry)});
    arm_redeliver(self);
  }
}

void redeliver_due(reader_ptr self) {
  auto& st = self->state;
  if (st.retries.empty() || st.stopping)
    return;
  auto committed = st.waiting.size() + st.annotating + st.reclaiming;
  auto free = st.idle.size() > committed ? st.idle.size() - committed : 0;
  auto now = self->clock().now(); // virtual time under the test coordinator
  std::vector<std::string> ids;
  auto known = std::make_shared<std::unordered_map<std::string, uint32_t>>();
  for (auto i = st.retries.begin(); i != st.retries.end() && ids.size() < free;) {
    if (i->due <= now) {
      ids.push_back(i->entry.id);
      st.in_transit.insert(i->entry.id);
      (*known)[i->entry.id] = i->entry.deliveries;
      i = st.retries.erase(i);
    } else {
      ++i;
    }
  }
  if (!ids.empty()) {
    auto n = static_cast<uint32_t>(ids.size());
    st.reclaiming += n;
    // XCLAIM to ourselves bumps Redis' delivery count (so it stays right
    // across restarts), resets the idle time and returns the entry as it is
    // now; an entry deleted meanwhile is not returned.
    self
      ->request(st.commands, st.opts.request_timeout,
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
            ack_later(self, id);
          }
          dispatch_waiting(self);
          redeliver_due(self);
          check_done(self);
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
            st.retries.push_back(retry_item{due, std::move(e)});
          }
          arm_redeliver(self);
          maybe_read(self);
          check_done(self);
        });
  }
  arm_redeliver(self);
}

void retry_dead_letters(reader_ptr self) {
  auto& st = self->state;
  if (st.dead_retry.empty() || st.stopping)
    return;
  // A few at a time: each comes back with all its fields.
  constexpr size_t most = 16;
  auto n = std::min(most, st.dead_retry.size());
  auto reasons = std::make_shared<std::unordered_map<std::string, std::string>>();
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(st.dead_retry[i].id);
    st.in_transit.insert(st.dead_retry[i].id);
    (*reasons)[st.dead_retry[i].id] = std::move(st.dead_retry[i].reason);
  }
  st.dead_retry.erase(st.dead_retry.begin(), st.dead_retry.begin() + static_cast<long>(n));
  st.dead_fetching += static_cast<uint32_t>(n);
  self
    ->request(st.commands, st.opts.request_timeout,
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
          ack_later(self, id);
        }
        retry_dead_letters(self);
        check_done(self);
      },
      [self, reasons, n](caf::error& err) {
        auto& st = self->state;
        st.dead_fetching -= static_cast<uint32_t>(n);
        for (auto& [id, reason] : *reasons)
          st.in_transit.erase(id);
        spdlog::debug("consumer {}: dead-letter XCLAIM failed: {}", label(st), describe(err));
        for (auto& [id, reason] : *reasons)
          st.dead_retry.push_back(dead_item{id, std::move(reason)});
        arm_dead_retry(self);
        check_done(self);
      });
}

void start_recovery_timers(reader_ptr self) {
  auto& st = self->state;
  if (st.opts.claim_min_idle.count() > 0) {
    self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
    self->delayed_send(self, st.opts.claim_min_idle / 3, lease_atom::value);
  }
  if (st.opts.consumer_idle_timeout.count() > 0)
    self->delayed_send(self, std::min<caf::timespan>(st.opts.consumer_idle_timeout, 60s),
                       sweep_atom::value);
  if (st.opts.orphan_check.count() > 0)
    self->delayed_send(self, st.opts.orphan_check, orphan_atom::value, true);
}

namespace {

/// Pages through the own pending list from `start` (inclusive "-", or an
/// exclusive "(id"), queueing for redelivery every entry nobody holds.
void scan_orphans_from(reader_ptr self, std::string start) {
  auto& st = self->state;
  st.orphan_scan_outstanding = true;
  auto page = static_cast<uint64_t>(st.slots.size() + st.held() + st.acks.size() + 256);
  auto claims_before = st.claims_sent;
  self
    ->request(st.conn, st.opts.request_timeout,
              xpending_range(st.opts.stream, st.opts.group, start, "+", page, st.opts.consumer))
    .then(
      [self, page, claims_before](redis_reply& reply) {
        auto& st = self->state;
        st.orphan_scan_outstanding = false;
        auto rows = parse_pending_rows(reply);
        if (!rows) {
          spdlog::warn("consumer {}: {}", label(st), describe(rows.error()));
          return;
        }
        // An XAUTOCLAIM that ran before the XPENDING and whose reply is still
        // on its way made entries ours that we cannot see yet: next time.
        if (st.claim_outstanding || st.claims_sent != claims_before || st.stopping)
          return;
        size_t adopted = 0;
        auto now = self->clock().now();
        auto last = rows->empty() ? std::string{} : rows->back().id;
        for (auto& row : *rows) {
          if (st.holds(row.id))
            continue;
          stream_entry e;
          e.id = std::move(row.id);
          e.deliveries = row.deliveries;
          st.retries.push_back(retry_item{now, std::move(e)});
          ++adopted;
        }
        if (adopted > 0) {
          st.metrics->orphans.fetch_add(adopted, std::memory_order_relaxed);
          spdlog::warn("consumer {}: {} entries were pending for this consumer but held by "
                       "nobody (a read whose reply was lost or that ran after its "
                       "connection closed); redelivering them",
                       label(st), adopted);
          redeliver_due(self);
        }
        if (rows->size() == page && !last.empty())
          scan_orphans_from(self, "(" + last);
      },
      [self](caf::error& err) {
        self->state.orphan_scan_outstanding = false;
        spdlog::debug("consumer {}: orphan scan failed: {}", label(self->state), describe(err));
      });
}

} // namespace

void scan_orphans(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.orphan_scan_outstanding || st.current == reader_state::phase::setup)
    return;
  scan_orphans_from(self, "-");
}

void claim(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.claim_outstanding)
    return;
  auto credits = st.credits();
  if (credits == 0 && st.current == reader_state::phase::live && st.busy == 0 && st.held() == 0
      && st.reads_outstanding > 0 && st.conn_client_id >= 0) {
    // Idle, with every credit in a read blocked on an empty stream: that is
    // spare capacity. Unblock the read; the claim runs when it returns.
    st.claim_pending = true;
    unblock_reads(self);
    return;
  }
  // Own pending entries come first; claim only with idle workers to spare.
  if (st.current != reader_state::phase::live || credits == 0) {
    self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
    return;
  }
  st.claim_outstanding = true;
  ++st.claims_sent;
  st.reserved += credits; // what the claim may return, like a read
  self
    ->request(st.commands, st.opts.request_timeout,
              xautoclaim(st.opts.stream, st.opts.group, st.opts.consumer, st.opts.claim_min_idle,
                         st.claim_cursor, credits))
    .then(
      [self, credits](redis_reply& reply) {
        auto& st = self->state;
        st.claim_outstanding = false;
        st.reserved -= credits;
        auto batch = parse_autoclaim_reply(std::move(reply));
        if (!batch) {
          spdlog::warn("consumer {}: {}", label(st), describe(batch.error()));
          self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
          return;
        }
        // Carry the cursor forward: restarting at 0-0 every time rescans the
        // head of the pending list and can leave later entries stuck.
        st.claim_cursor = std::move(batch->next_cursor);
        if (!batch->deleted_ids.empty()) {
          st.metrics->deleted.fetch_add(batch->deleted_ids.size(), std::memory_order_relaxed);
          for (auto& id : batch->deleted_ids)
            ack_later(self, std::move(id));
        }
        auto claimed = batch->entries.size();
        if (claimed > 0) {
          st.metrics->claimed.fetch_add(claimed, std::memory_order_relaxed);
          st.read_total += claimed;
          spdlog::info(
            "consumer {}: claimed {} entries idle for more than {} ms", label(st), claimed,
            std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.claim_min_idle).count());
          admit_redelivered(self, std::move(batch->entries));
        }
        if (claimed == credits)
          self->send(self, claim_atom::value); // there may be more right away
        else
          self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
        maybe_read(self);
      },
      [self, credits](caf::error& err) {
        auto& st = self->state;
        st.claim_outstanding = false;
        st.reserved -= credits;
        spdlog::debug("consumer {}: XAUTOCLAIM failed: {}", label(st), describe(err));
        self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
        maybe_read(self);
      });
}

void renew_leases(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto interval = st.opts.claim_min_idle / 3;
  auto now = self->clock().now(); // virtual time under the test coordinator
  std::vector<std::string> ids;
  for (auto& s : st.slots)
    if (s.busy && now - s.since >= interval)
      ids.push_back(s.id);
  for (auto& r : st.retries)
    ids.push_back(r.entry.id);
  for (auto& d : st.dead_retry)
    ids.push_back(d.id);
  if (!ids.empty())
    self
      ->request(st.commands, st.opts.request_timeout,
                xclaim(st.opts.stream, st.opts.group, st.opts.consumer, ids, true))
      .then([](redis_reply&) {},
            [self](caf::error& err) {
              spdlog::debug("consumer {}: lease renewal failed: {}", label(self->state),
                            describe(err));
            });
  self->delayed_send(self, interval, lease_atom::value);
}

void sweep_consumers(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  self
    ->request(st.commands, st.opts.request_timeout,
              remove_idle_consumers(st.opts.stream, st.opts.group, st.opts.consumer,
                                    st.opts.consumer_idle_timeout))
    .then(
      [self](redis_reply& reply) {
        auto& st = self->state;
        if (!reply.is_array() || reply.elements.empty())
          return;
        std::string names;
        for (auto& e : reply.elements)
          names += (names.empty() ? "" : ", ") + e.str;
        st.metrics->consumers_removed.fetch_add(reply.elements.size(), std::memory_order_relaxed);
        spdlog::info("consumer {}: removed idle consumers without pending entries: {}", label(st),
                     names);
      },
      [self](caf::error& err) {
        spdlog::debug("consumer {}: consumer sweep failed: {}", label(self->state), describe(err));
      });
  self->delayed_send(self, std::min<caf::timespan>(st.opts.consumer_idle_timeout, 60s),
                     sweep_atom::value);
}

} // namespace rill::detail
