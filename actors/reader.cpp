// The reader actor: glue between its messages and its parts. Each handler
// does its part (reader_reads.cpp: reads; reader_acks.cpp: deliveries and
// acks; reader_workers.cpp: worker slots; reader_recovery.cpp: retries and
// dead letters; reader_claims.cpp: claims, orphan scans, leases;
// reader_name_lease.cpp) and ends with the one after-event
// step: dispatch, redeliver, read, check done. See docs/architecture.md.

#include <rill/actors/error.hpp>
#include <rill/actors/reader.hpp>
#include <rill/actors/reader_state.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rill::detail {

// -- 5. stop: nothing left in flight, every ack confirmed ------------------------------

namespace {

/// Quits once stopping (or done with `limit`) and nothing is left in flight.
void check_done(reader_ptr self) {
  auto& st = self->state;
  if (!st.stopping && !st.reads.limit_reached())
    return;
  if (st.setup_outstanding || st.reads.outstanding() > 0 || st.slots.busy() > 0
      || !st.waiting.empty() || st.annotating > 0 || st.reclaiming > 0 || st.dead_in_flight > 0
      || st.dead_fetching > 0 || st.key_fetching > 0
      || (!st.stopping && (st.keys.waiting() > 0 || st.keys.parked() > 0)))
    return;
  // Done with its limit, a consumer also sees its failed entries through to
  // success or the dead-letter stream. A stopping one leaves them pending:
  // they are delivered again after a restart or claimed by another consumer.
  if (!st.stopping && !st.retries.empty())
    return;
  if (st.acks.pending() > 0 && st.acks.batches_in_flight() == 0 && !st.acks.armed())
    flush(self);
  if (st.effects.pending() > 0 && st.effects.batches_in_flight() == 0 && !st.effects.armed())
    flush_effects(self);
  if (!st.acks.settled() || !st.effects.settled())
    return;
  if (!st.retries.empty())
    spdlog::info("consumer {}: {} failed entries stay pending for redelivery", label(st),
                 st.retries.retries() + st.retries.dead());
  release_name_lease(self);
  self->quit();
}

void stop(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  self->delayed_send(self, st.opts.stop_timeout, deadline_atom::value);
  unblock_reads(self);
}

void stop_deadline(reader_ptr self) {
  auto& st = self->state;
  // Entries whose effects script did not go through count as unflushed
  // acks: they stay pending and their effects are applied once, later.
  auto unflushed = st.acks.unflushed() + st.effects.unflushed();
  st.metrics->unflushed_acks.store(unflushed);
  if (unflushed > 0)
    spdlog::error("consumer {}: stop deadline reached: {} acks of processed entries could "
                  "not be flushed (XACK failed), {} entries still in workers; all of them "
                  "stay pending and are delivered again",
                  label(st), unflushed, st.slots.busy());
  else
    spdlog::warn("consumer {}: stop deadline reached with {} entries in workers; "
                 "they stay pending and are delivered again",
                 label(st), st.slots.busy());
  flush(self);
  flush_effects(self);
  release_name_lease(self);
  self->quit();
}

} // namespace

void step(reader_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && st.slots.idle() > 0) {
    auto entry = std::move(st.waiting.front());
    st.waiting.pop_front();
    if (!st.keys.enabled()) {
      dispatch(self, std::move(entry));
      continue;
    }
    std::optional<std::string> key;
    try {
      key = st.keys.key_of(entry);
    } catch (const std::exception& e) {
      dead_letter(self, std::move(entry), std::string{"order_key threw: "} + e.what());
      continue;
    } catch (...) {
      dead_letter(self, std::move(entry), "order_key threw a non-exception");
      continue;
    }
    if (auto now = st.keys.admit(std::move(entry), std::move(key)))
      dispatch(self, std::move(*now));
  }
  redeliver_due(self);
  maybe_read(self);
  check_done(self);
  if (st.keys.enabled()) {
    auto& m = *st.metrics;
    m.keys_active.store(static_cast<uint32_t>(st.keys.keys()), std::memory_order_relaxed);
    m.keys_waiting.store(static_cast<uint32_t>(st.keys.waiting()), std::memory_order_relaxed);
    m.key_longest_queue.store(static_cast<uint32_t>(st.keys.longest()), std::memory_order_relaxed);
    m.key_waits.store(st.keys.waited(), std::memory_order_relaxed);
    m.keys_parked.store(static_cast<uint32_t>(st.keys.parked()), std::memory_order_relaxed);
  }
  st.metrics->workers.store(static_cast<uint32_t>(st.slots.size()), std::memory_order_relaxed);
  st.metrics->idle_workers.store(static_cast<uint32_t>(st.slots.idle()), std::memory_order_relaxed);
}

// -- the reader's messages ---------------------------------------------------------------

namespace {

void on_conn_up(reader_ptr self, int64_t client_id) {
  auto& st = self->state;
  st.conn_client_id = client_id;
  if (!st.failing)
    st.metrics->set_last_error({}); // what conn_down reported is over
  // The name lease names this connection: take it now (then the group is set
  // up), or renew it with the new connection's id.
  if (!st.name_claim_started) {
    st.name_claim_started = true;
    claim_name_lease(self);
  } else if (st.name_leased) {
    claim_name_lease(self);
  }
  // A read reply lost with the connection leaves its entries pending for this
  // consumer, delivered to nobody; a read that timed out can even run in
  // Redis after this reconnect. Look for such orphans now (first on the new
  // connection, ahead of any read) and once more shortly.
  if (st.conn_lost && st.reads.phase() != read_phase::setup) {
    scan_orphans(self);
    self->delayed_send(self, std::chrono::seconds{1}, orphan_atom::value, false);
  }
  st.conn_lost = false;
  // Redis is back: do not sit out the rest of a backoff delay, nor grow it
  // further if Redis still needs a moment.
  st.retry.reset();
  if (st.retry_armed) {
    ++st.retry_epoch;
    self->send(self, retry_atom::value, st.retry_epoch);
  }
}

void on_retry(reader_ptr self, uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.retry_epoch || !st.retry_armed)
    return;
  st.retry_armed = false;
  if (!st.stopping && st.reads.phase() == read_phase::setup && st.reads.outstanding() == 0)
    setup_group(self);
  step(self);
}

caf::behavior reader(reader_ptr self, consumer_options opts, connection_factory make_connection,
                     connection_actor shared_conn, std::shared_ptr<consumer_metrics> metrics) {
  auto& st = self->state;
  st.opts = std::move(opts);
  if (st.opts.consumer.empty())
    st.opts.consumer = default_consumer_name();
  st.dead_stream
    = st.opts.dead_letter_stream.empty() ? st.opts.stream + ":dead" : st.opts.dead_letter_stream;
  st.shared_conn = connection_ref{std::move(shared_conn)};
  st.metrics = std::move(metrics);
  st.metrics->consumer_name = st.opts.consumer;
  st.metrics->started_ns = steady_now_ns();
  st.reads = read_planner{st.opts.limit};
  // A key keeps a quarter of the waiting room in memory; more is parked.
  auto room = st.opts.max_waiting > 0 ? st.opts.max_waiting : st.opts.max_in_flight;
  st.keys = key_order{st.opts.order_by, st.opts.order_key,
                      st.opts.max_parked > 0 ? std::max<size_t>(1, room / 4) : 0};
  st.metrics->ordered = st.keys.enabled();
  st.acks = ack_batcher{st.opts.ack_batch};
  // At most a pool's worth: beyond that the waiting entries hold credits
  // (reader_state::held), so a batch must not wait for more than can come.
  st.effects = effect_batcher{std::min(st.opts.ack_batch, st.opts.max_in_flight)};
  st.retry = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.ack_retry = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.dead_retry_backoff = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.own_conn = connection_ref{make_connection(caf::actor{self})};
  // Linked: the connection goes when the reader goes (its exit handler quits
  // on any exit reason), and a crashed connection takes the reader down.
  self->link_to(st.own_conn.actor);
  self->attach_functor([m = st.metrics] {
    m->finished_ns = steady_now_ns();
    m->finished = true;
  });
  start_recovery_timers(self); // the group is set up once the name is leased (conn_up)
  self->set_down_handler([self](const caf::down_msg& msg) {
    on_worker_down(self, msg);
    step(self);
  });
  return {
    // From workers (and the ack relays of remote ones).
    [self](credit_atom) {
      add_worker(self, caf::actor{});
      step(self);
    },
    [self](credit_atom, caf::actor& relay) {
      add_worker(self, std::move(relay));
      step(self);
    },
    [self](withdraw_atom) { return withdraw(self); },
    [self](ack_atom, uint32_t index, std::string& id) {
      on_ack(self, index, std::move(id));
      step(self);
    },
    [self](ack_batch& batch) {
      for (size_t i = 0; i < batch.slots.size() && i < batch.ids.size(); ++i)
        on_ack(self, batch.slots[i], std::move(batch.ids[i]));
      auto n
        = std::min({batch.effect_slots.size(), batch.effect_entries.size(), batch.effects.size()});
      for (size_t i = 0; i < n; ++i)
        on_effects(self, batch.effect_slots[i], std::move(batch.effect_entries[i]),
                   std::move(batch.effects[i]));
      step(self);
    },
    [self](nack_atom, uint32_t index, stream_entry& entry, caf::error& err) {
      on_nack(self, index, std::move(entry), err);
      step(self);
    },
    [self](effects_atom, uint32_t index, stream_entry& entry, std::vector<effect>& fx) {
      on_effects(self, index, std::move(entry), std::move(fx));
      step(self);
    },
    // From its own connection.
    [self](conn_up_atom, int64_t client_id) { on_conn_up(self, client_id); },
    [self](conn_down_atom, caf::error& err) {
      // The connection logs it; keep it visible in the metrics too (before
      // the first connect nothing else would show it: the reader waits for
      // the connection to lease its name).
      self->state.metrics->set_last_error(describe(err));
      self->state.conn_client_id = -1;
      self->state.conn_lost = true;
    },
    // Its own timers.
    [self](send_atom) {
      for (auto& [relay, batch] : self->state.outbox)
        self->send(relay, std::move(batch));
      self->state.outbox.clear();
    },
    [self](flush_atom) {
      self->state.acks.timer_fired();
      flush(self);
      step(self);
    },
    [self](effects_flush_atom) {
      self->state.effects.timer_fired();
      flush_effects(self);
      step(self);
    },
    [self](retry_atom, uint64_t epoch) { on_retry(self, epoch); },
    [self](redeliver_atom) {
      self->state.retries.timer_fired();
      step(self);
    },
    [self](key_fetch_atom) { retry_key_fetches(self); },
    [self](dead_retry_atom) {
      self->state.dead_retry_armed = false;
      retry_dead_letters(self);
    },
    [self](claim_atom) { claim(self); },
    [self](orphan_atom, bool periodic) {
      scan_orphans(self);
      if (periodic)
        self->delayed_send(self, self->state.opts.orphan_check, orphan_atom::value, true);
    },
    [self](lease_atom) { renew_leases(self); },
    [self](sweep_atom) { sweep_consumers(self); },
    [self](lease_name_atom) { renew_name_lease(self); },
    [self](streak_atom) { close_worker_streak(self); },
    // From the runtime.
    [self](stop_atom) {
      stop(self);
      step(self);
    },
    [self](deadline_atom) { stop_deadline(self); },
  };
}

} // namespace

bool reader_state::holds(const std::string& id) const {
  return in_transit.count(id) > 0 || slots.holds(id) || retries.holds(id) || acks.holds(id)
         || effects.holds(id)
         || std::any_of(waiting.begin(), waiting.end(),
                        [&](const stream_entry& e) { return e.id == id; })
         || keys.holds(id);
}

std::string label(const reader_state& st) {
  return st.opts.stream + "/" + st.opts.group + "/" + st.opts.consumer;
}

} // namespace rill::detail

namespace rill {

caf::actor spawn_reader(caf::actor_system& sys, consumer_options opts,
                        connection_factory make_connection, connection_actor shared_conn,
                        std::shared_ptr<consumer_metrics> metrics) {
  return sys.spawn(detail::reader, std::move(opts), std::move(make_connection),
                   std::move(shared_conn), std::move(metrics));
}

} // namespace rill
