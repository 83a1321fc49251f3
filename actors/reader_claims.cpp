// The reader's recovery paths for entries it does not hold: claiming entries
// of dead consumers (XAUTOCLAIM), adopting orphans of lost reads (XPENDING),
// renewing the leases of entries it holds, removing idle consumers.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

namespace rill::detail {

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
  auto page = static_cast<uint64_t>(st.slots.size() + st.held() + st.acks.pending() + 256);
  auto claims_before = st.claims_sent;
  ask(self, st.own_conn, st.opts.request_timeout,
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
          st.retries.schedule(std::move(e), now);
          ++adopted;
        }
        if (adopted > 0) {
          st.metrics->orphans.fetch_add(adopted, std::memory_order_relaxed);
          spdlog::warn("consumer {}: {} entries were pending for this consumer but held by "
                       "nobody (a read whose reply was lost or that ran after its "
                       "connection closed); redelivering them",
                       label(st), adopted);
          step(self);
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
  if (st.stopping || st.orphan_scan_outstanding || st.reads.phase() == read_phase::setup)
    return;
  scan_orphans_from(self, "-");
}

void claim(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.claim_outstanding)
    return;
  auto credits = st.credits();
  if (credits == 0 && st.reads.live() && st.slots.busy() == 0 && st.held() == 0
      && st.reads.outstanding() > 0 && st.conn_client_id >= 0) {
    // Idle, with every credit in a read blocked on an empty stream: that is
    // spare capacity. Unblock the read; the claim runs when it returns.
    st.claim_pending = true;
    unblock_reads(self);
    return;
  }
  // Own pending entries come first; claim only with idle workers to spare.
  if (!st.reads.live() || credits == 0) {
    self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
    return;
  }
  st.claim_outstanding = true;
  ++st.claims_sent;
  st.reads.reserve(credits); // what the claim may return, like a read
  ask(self, st.shared_conn, st.opts.request_timeout,
      xautoclaim(st.opts.stream, st.opts.group, st.opts.consumer, st.opts.claim_min_idle,
                 st.claim_cursor, credits))
    .then(
      [self, credits](redis_reply& reply) {
        auto& st = self->state;
        st.claim_outstanding = false;
        st.reads.unreserve(credits);
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
          for (auto& id : batch->deleted_ids) {
            settled(self, id); // a retrying holder's entry may be gone
            ack_later(self, std::move(id));
          }
        }
        auto claimed = batch->entries.size();
        if (claimed > 0) {
          st.metrics->claimed.fetch_add(claimed, std::memory_order_relaxed);
          st.reads.count(claimed);
          spdlog::info(
            "consumer {}: claimed {} entries idle for more than {} ms", label(st), claimed,
            std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.claim_min_idle).count());
          admit_redelivered(self, std::move(batch->entries));
        }
        if (claimed == credits)
          self->send(self, claim_atom::value); // there may be more right away
        else
          self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
        step(self);
      },
      [self, credits](caf::error& err) {
        auto& st = self->state;
        st.claim_outstanding = false;
        st.reads.unreserve(credits);
        spdlog::debug("consumer {}: XAUTOCLAIM failed: {}", label(st), describe(err));
        self->delayed_send(self, st.opts.claim_interval, claim_atom::value);
        step(self);
      });
}

void renew_leases(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto interval = st.opts.claim_min_idle / 3;
  auto now = self->clock().now(); // virtual time under the test coordinator
  std::vector<std::string> ids;
  for (const auto& s : st.slots)
    if (s.holds_entry() && now - s.since >= interval)
      ids.push_back(s.id);
  st.retries.append_ids(ids);
  if (!ids.empty())
    ask(self, st.shared_conn, st.opts.request_timeout,
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
  ask(self, st.shared_conn, st.opts.request_timeout,
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
