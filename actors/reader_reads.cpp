// The reader's read side: set up the group, read as many entries as there
// are credits (the read planner decides how many and when), take in replies.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/group_info.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rill::detail {

void fail(reader_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto text = describe(err);
  st.metrics->set_last_error(text);
  if (!st.failing)
    spdlog::error("consumer {}: {}", label(st), text);
  else
    spdlog::debug("consumer {}: {}", label(st), text);
  st.failing = true;
  if (code_of(err) == sec::no_group) {
    st.reads.enter(read_phase::setup); // group deleted: create it again
    st.metrics->attached = false;
  }
  st.retry_armed = true;
  // Redis is up but loading its data (or in a long script): it will serve in
  // a moment, so ask again soon instead of backing off as from an outage
  // (that resumed ~4 s after a restart).
  auto delay = code_of(err) == sec::server_busy ? st.opts.retry_min : st.retry.next();
  self->delayed_send(self, delay, retry_atom::value, ++st.retry_epoch);
}

void recovered(reader_ptr self) {
  auto& st = self->state;
  if (st.failing) {
    spdlog::info("consumer {}: recovered", label(st));
    st.metrics->set_last_error({});
  }
  st.failing = false;
  st.retry.reset();
}

// -- 1. set up the group ------------------------------------------------------------

namespace {

/// With order_by: order holds within one consumer only, so other consumers
/// active in the group (seen in the last minute) are worth a loud line.
void warn_other_consumers(reader_ptr self) {
  auto& st = self->state;
  if (!st.keys.enabled())
    return;
  ask(self, st.shared_conn, st.opts.request_timeout, xinfo_consumers(st.opts.stream, st.opts.group))
    .then(
      [self](redis_reply& reply) {
        auto& st = self->state;
        auto consumers = parse_consumers(reply);
        if (!consumers)
          return;
        std::string others;
        size_t n = 0;
        for (auto& c : *consumers)
          if (c.name != st.opts.consumer && c.idle_ms < 60'000) {
            others += (n++ == 0 ? "" : ", ") + c.name;
          }
        if (n > 0)
          spdlog::warn("consumer {}: {} orders within one consumer only, and "
                       "the group has {} other active consumers ({}): entries of one key may run "
                       "at the same time there",
                       label(st), st.keys.name(), n, others);
      },
      [self](caf::error& err) {
        spdlog::debug("consumer {}: XINFO CONSUMERS failed: {}", label(self->state), describe(err));
      });
}

} // namespace

void setup_group(reader_ptr self) {
  auto& st = self->state;
  if (!st.name_leased || st.setup_outstanding)
    return;
  st.setup_outstanding = true;
  ask(self, st.own_conn, st.opts.request_timeout,
      xgroup_create(st.opts.stream, st.opts.group, st.opts.start_id))
    .then(
      [self](redis_reply&) {
        auto& st = self->state;
        st.setup_outstanding = false;
        spdlog::info("consumer {}: created group at {}", label(st), st.opts.start_id);
        st.metrics->attached = true;
        st.reads.enter(read_phase::backlog);
        recovered(self);
        warn_other_consumers(self);
        step(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.setup_outstanding = false;
        if (context_text(err).rfind("BUSYGROUP", 0) == 0) {
          st.reads.enter(read_phase::backlog); // exists already: fine
          st.metrics->attached = true;
          recovered(self);
          warn_other_consumers(self);
        } else {
          fail(self, err);
        }
        step(self);
      });
}

// -- 2. read as many entries as there are credits -------------------------------------

namespace {

void on_read(reader_ptr self, redis_reply& reply) {
  auto& st = self->state;
  st.metrics->reads.fetch_add(1, std::memory_order_relaxed);
  auto batch = parse_read_reply(std::move(reply));
  if (!batch) {
    fail(self, batch.error());
    return;
  }
  recovered(self);
  bool backlog = st.reads.phase() == read_phase::backlog;
  if (backlog) {
    if (batch->entries.empty() && batch->deleted_ids.empty()) {
      spdlog::debug("consumer {}: own pending entries done, reading new ones", label(st));
      st.reads.enter(read_phase::live);
    }
    if (!batch->entries.empty())
      st.reads.advance(batch->entries.back().id);
    if (!batch->deleted_ids.empty())
      st.reads.advance(batch->deleted_ids.back());
    // A re-read after a reconnect must never run an entry twice at once.
    auto& e = batch->entries;
    e.erase(std::remove_if(e.begin(), e.end(), [&](const auto& x) { return st.holds(x.id); }),
            e.end());
  }
  // Pending IDs whose entry is gone (deleted, trimmed) can never be
  // delivered: ack them.
  if (!batch->deleted_ids.empty()) {
    st.metrics->deleted.fetch_add(batch->deleted_ids.size(), std::memory_order_relaxed);
    spdlog::warn("consumer {}: {} pending entries were deleted from the stream; acking them",
                 label(st), batch->deleted_ids.size());
    for (auto& id : batch->deleted_ids) {
      settled(self, id); // a retrying holder's entry may be gone
      ack_later(self, std::move(id));
    }
  }
  st.reads.count(batch->entries.size());
  if (backlog) {
    admit_redelivered(self, std::move(batch->entries)); // may be poison pills
    return;
  }
  for (auto& entry : batch->entries)
    st.waiting.emplace_back(std::move(entry));
}

void read(reader_ptr self, uint64_t count) {
  auto& st = self->state;
  bool live = st.reads.live();
  // Only a `>` read blocks; a read of own pending entries (`0`) ignores
  // BLOCK, so looping on it with nothing to read would spin.
  auto cmd = xreadgroup(st.opts.group, st.opts.consumer, st.opts.stream, count,
                        live ? ">" : st.reads.cursor(), live ? st.opts.block : caf::timespan{0});
  st.reads.started(count);
  // No CAF timer per read: the connection fails every request whose deadline
  // (request_timeout + BLOCK) passes, itself. A timer here too would cost a
  // clock entry per request for the whole deadline window (measured: +10 MB
  // of RSS when draining 2M entries).
  ask(self, st.own_conn, caf::infinite, std::move(cmd))
    .then(
      [self, count](redis_reply& reply) {
        auto& st = self->state;
        st.reads.settled(count);
        on_read(self, reply);
        // A blocked `>` read would hold a stop for up to BLOCK; unblock the
        // second pipelined read too (it starts blocking now).
        if (st.stopping)
          unblock_reads(self);
        if (st.claim_pending) {
          if (st.reads.outstanding() > 0) {
            unblock_reads(self); // the other read blocks now: free its credits too
          } else {
            st.claim_pending = false;
            claim(self); // before reading again: its credits are free now
          }
        }
        step(self);
      },
      [self, count](caf::error& err) {
        self->state.reads.settled(count);
        fail(self, err);
        step(self);
      });
}

} // namespace

void maybe_read(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.setup_outstanding || st.retry_armed || st.claim_pending)
    return;
  auto plan = st.reads.plan(st.credits(), st.slots.busy(), st.slots.size());
  for (auto count : plan)
    if (count > 0)
      read(self, count);
}

void unblock_reads(reader_ptr self) {
  auto& st = self->state;
  if (st.reads.outstanding() == 0 || !st.reads.live() || st.conn_client_id < 0)
    return;
  ask(self, st.shared_conn, st.opts.request_timeout,
      client_unblock(st.conn_client_id, st.opts.stream))
    .then([](redis_reply&) {}, [](caf::error&) {});
}

} // namespace rill::detail
