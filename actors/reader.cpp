#include <rill/actors/reader.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rill::detail {

namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
    .count();
}

/// Records a failure, logs it once per streak, and schedules a retry.
void fail(reader_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto text = describe(err);
  st.metrics->set_last_error(text);
  if (!st.failing)
    spdlog::error("consumer {}: {}", label(st), text);
  else
    spdlog::debug("consumer {}: {}", label(st), text);
  st.failing = true;
  if (code_of(err) == sec::no_group)
    st.current = reader_state::phase::setup; // group deleted: create it again
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

} // namespace

void setup_group(reader_ptr self) {
  auto& st = self->state;
  if (!st.name_leased || st.setup_outstanding)
    return;
  st.setup_outstanding = true;
  auto cmd = make_command(
    {"XGROUP", "CREATE", st.opts.stream, st.opts.group, st.opts.start_id, "MKSTREAM"});
  self->request(st.conn, st.opts.request_timeout, std::move(cmd))
    .then(
      [self](redis_reply&) {
        auto& st = self->state;
        st.setup_outstanding = false;
        spdlog::info("consumer {}: created group at {}", label(st), st.opts.start_id);
        st.current = reader_state::phase::backlog;
        recovered(self);
        maybe_read(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.setup_outstanding = false;
        if (context_text(err).rfind("BUSYGROUP", 0) == 0) {
          st.current = reader_state::phase::backlog; // exists already: fine
          recovered(self);
          maybe_read(self);
          return;
        }
        fail(self, err);
        check_done(self);
      });
}

namespace {

void dispatch(reader_ptr self, stream_entry&& entry) {
  auto& st = self->state;
  auto index = st.idle.back();
  st.idle.pop_back();
  auto& s = st.slots[index];
  s.busy = true;
  s.id = entry.id;
  s.since = self->clock().now();
  ++st.busy;
  if (st.metrics->delivered.fetch_add(1, std::memory_order_relaxed) == 0)
    st.metrics->first_delivery_ns = steady_ns();
  st.metrics->in_flight.store(st.busy, std::memory_order_relaxed);
  if (st.busy > st.metrics->max_in_flight_seen.load(std::memory_order_relaxed))
    st.metrics->max_in_flight_seen.store(st.busy, std::memory_order_relaxed);
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

/// Removes entries this reader still holds from a re-read of its own pending
/// list, so a re-read after a reconnect never runs an entry twice at once.
void drop_held(const reader_state& st, std::vector<stream_entry>& entries) {
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const stream_entry& e) { return st.holds(e.id); }),
                entries.end());
}

void on_read(reader_ptr self, redis_reply& reply) {
  auto& st = self->state;
  st.metrics->reads.fetch_add(1, std::memory_order_relaxed);
  auto batch = parse_read_reply(std::move(reply));
  if (!batch) {
    fail(self, batch.error());
    return;
  }
  recovered(self);
  bool backlog = st.current == reader_state::phase::backlog;
  if (backlog) {
    if (batch->entries.empty() && batch->deleted_ids.empty()) {
      spdlog::debug("consumer {}: own pending entries done, reading new ones", label(st));
      st.current = reader_state::phase::live;
    }
    for (auto* id : {batch->entries.empty() ? nullptr : &batch->entries.back().id,
                     batch->deleted_ids.empty() ? nullptr : &batch->deleted_ids.back()})
      if (id != nullptr && compare_ids(*id, st.backlog_cursor) > 0)
        st.backlog_cursor = *id;
    drop_held(st, batch->entries);
  }
  // Pending IDs whose entry is gone (deleted, trimmed) can never be
  // delivered: ack them.
  if (!batch->deleted_ids.empty()) {
    st.metrics->deleted.fetch_add(batch->deleted_ids.size(), std::memory_order_relaxed);
    spdlog::warn("consumer {}: {} pending entries were deleted from the stream; acking them",
                 label(st), batch->deleted_ids.size());
    for (auto& id : batch->deleted_ids)
      ack_later(self, std::move(id));
  }
  st.read_total += batch->entries.size();
  if (backlog) {
    admit_redelivered(self, std::move(batch->entries)); // may be poison pills
    return;
  }
  for (auto& entry : batch->entries)
    st.waiting.emplace_back(std::move(entry));
  dispatch_waiting(self);
}

/// A blocked `>` read would hold a stop for up to BLOCK; unblock it (its
/// reply is nil, or entries that arrived meanwhile, which still get
/// processed). A second pipelined read starts blocking after the first
/// returns, so this runs again then.
void unblock_if_stopping(reader_ptr self) {
  if (self->state.stopping)
    unblock_reads(self);
}

void read(reader_ptr self, uint64_t count) {
  auto& st = self->state;
  redis_command cmd;
  cmd.argv.reserve(12);
  cmd.arg("XREADGROUP").arg("GROUP").arg(st.opts.group).arg(st.opts.consumer);
  cmd.arg("COUNT").arg(std::to_string(count));
  bool live = st.current == reader_state::phase::live;
  if (live) {
    // Only a `>` read blocks; a read of own pending entries (`0`) ignores
    // BLOCK, so looping on it with nothing to read would spin.
    cmd.arg("BLOCK").arg(
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.block).count()));
    cmd.blocks_for = st.opts.block;
  }
  cmd.arg("STREAMS").arg(st.opts.stream).arg(live ? ">" : st.backlog_cursor);
  ++st.reads_outstanding;
  st.reserved += count;
  auto settle = [self, count] {
    auto& st = self->state;
    --st.reads_outstanding;
    st.reserved -= count;
  };
  // No CAF timer per read: the connection fails every request whose deadline
  // (request_timeout + BLOCK) passes, itself. A timer here too would cost a
  // clock entry per request for the whole deadline window (measured: +10 MB
  // of RSS when draining 2M entries).
  self->request(st.conn, caf::infinite, std::move(cmd))
    .then(
      [self, settle](redis_reply& reply) {
        settle();
        on_read(self, reply);
        unblock_if_stopping(self);
        if (self->state.claim_pending) {
          if (self->state.reads_outstanding > 0) {
            // The other pipelined read blocks now: free its credits too.
            unblock_reads(self);
            check_done(self);
            return;
          }
          self->state.claim_pending = false;
          claim(self); // before reading again: its credits are free now
        }
        maybe_read(self);
        check_done(self);
      },
      [self, settle](caf::error& err) {
        settle();
        fail(self, err);
        check_done(self);
      });
}

void flush(reader_ptr self) {
  auto& st = self->state;
  if (st.acks.empty())
    return;
  redis_command cmd;
  cmd.argv.reserve(3 + st.acks.size());
  cmd.arg("XACK").arg(st.opts.stream).arg(st.opts.group);
  for (auto& id : st.acks)
    cmd.argv.push_back(id);
  auto ids = std::make_shared<std::vector<std::string>>(std::move(st.acks));
  st.acks.clear();
  ++st.acks_in_flight;
  st.unconfirmed.push_back(ids);
  auto settle = [self, ids] {
    auto& uc = self->state.unconfirmed;
    uc.erase(std::remove(uc.begin(), uc.end(), ids), uc.end());
    --self->state.acks_in_flight;
  };
  self
    ->request(st.commands, caf::infinite, std::move(cmd)) // deadline: see read()
    .then(
      [self, ids, settle](redis_reply&) {
        auto& st = self->state;
        settle();
        if (st.ack_failures.open())
          spdlog::info("consumer {}: XACK works again ({} attempts had failed)", label(st),
                       st.ack_failures.close());
        st.ack_retry.reset();
        st.metrics->acked.fetch_add(ids->size(), std::memory_order_relaxed);
        st.metrics->ack_batches.fetch_add(1, std::memory_order_relaxed);
        check_done(self);
      },
      [self, ids, settle](caf::error& err) {
        // XACK is idempotent: keep the IDs and try again, or the entries would
        // be processed again after a restart.
        auto& st = self->state;
        settle();
        st.metrics->ack_failures.fetch_add(1, std::memory_order_relaxed);
        if (st.ack_failures.hit())
          spdlog::warn("consumer {}: XACK of {} IDs failed, retrying (one line until it works "
                       "again): {}",
                       label(st), ids->size(), describe(err));
        else
          spdlog::debug("consumer {}: XACK of {} IDs failed again: {}", label(st), ids->size(),
                        describe(err));
        st.acks.insert(st.acks.begin(), std::make_move_iterator(ids->begin()),
                       std::make_move_iterator(ids->end()));
        if (!st.flush_armed) {
          st.flush_armed = true;
          // Loading after a restart: it serves in a moment (see fail()).
          auto delay = code_of(err) == sec::server_busy ? st.opts.retry_min : st.ack_retry.next();
          self->delayed_send(self, delay, flush_atom::value);
        }
        check_done(self);
      });
}

/// Returns the slot of `index` if it is busy with `id`.
slot* busy_slot(reader_ptr self, uint32_t index, const std::string& id) {
  auto& st = self->state;
  if (index >= st.slots.size() || !st.slots[index].busy || st.slots[index].id != id) {
    spdlog::warn("consumer {}: stale ack/nack for {} ignored", label(st), id);
    return nullptr;
  }
  return &st.slots[index];
}

/// True if a worker behind `relay` still holds an entry.
bool relay_busy(const reader_state& st, const caf::actor_addr& relay) {
  return std::any_of(st.slots.begin(), st.slots.end(),
                     [&](const slot& s) { return s.busy && s.relay.address() == relay; });
}

/// Answers the withdrawn relays whose workers hold nothing any more.
void settle_withdrawals(reader_ptr self) {
  auto& w = self->state.withdrawals;
  for (auto i = w.begin(); i != w.end();) {
    if (relay_busy(self->state, i->relay)) {
      ++i;
      continue;
    }
    i->done.deliver(drained_atom::value);
    i = w.erase(i);
  }
}

/// The workers behind the sender (an ack relay whose node stops) get no new
/// entries; the reply comes when they hold none.
caf::result<drained_atom> withdraw(reader_ptr self) {
  auto& st = self->state;
  auto relay = caf::actor_cast<caf::actor_addr>(self->current_sender());
  size_t n = 0;
  for (uint32_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (!s.alive || s.retiring || s.relay.address() != relay)
      continue;
    ++n;
    s.retiring = true;
    if (!s.busy) {
      s.alive = false;
      st.idle.erase(std::remove(st.idle.begin(), st.idle.end(), i), st.idle.end());
    }
  }
  spdlog::info("consumer {}: {} remote workers withdrawn (their node stops)", label(st), n);
  if (!relay_busy(st, relay))
    return drained_atom::value;
  auto rp = self->make_response_promise<drained_atom>();
  st.withdrawals.push_back(withdrawal{relay, rp});
  return rp;
}

void release(reader_ptr self, uint32_t index) {
  auto& st = self->state;
  auto& s = st.slots[index];
  s.busy = false;
  s.id.clear();
  --st.busy;
  st.metrics->in_flight.store(st.busy, std::memory_order_relaxed);
  if (s.retiring) {
    s.alive = false;
    settle_withdrawals(self);
  } else {
    st.idle.push_back(index);
  }
  dispatch_waiting(self);
  redeliver_due(self);
}

void on_ack(reader_ptr self, uint32_t index, std::string id) {
  auto& st = self->state;
  if (busy_slot(self, index, id) == nullptr)
    return;
  st.metrics->processed.fetch_add(1, std::memory_order_relaxed);
  release(self, index);
  ack_later(self, std::move(id));
}

/// A worker offered its credit (once, when it starts).
void add_worker(reader_ptr self, caf::actor relay) {
  auto& st = self->state;
  auto worker = caf::actor_cast<caf::actor>(self->current_sender());
  if (!worker)
    return;
  self->monitor(worker);
  st.slots.push_back(slot{worker, std::move(relay), {}, {}, false, true});
  st.idle.push_back(static_cast<uint32_t>(st.slots.size() - 1));
  dispatch_waiting(self);
  maybe_read(self);
}

/// Summarises a streak of dead workers one second after its first line.
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
  for (uint32_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (!s.alive || s.worker.address() != msg.source)
      continue;
    s.alive = false;
    st.metrics->workers_down.fetch_add(1, std::memory_order_relaxed);
    std::string held = s.busy ? s.id : std::string{};
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
    if (s.busy) {
      stream_entry lost;
      lost.id = std::move(s.id);
      st.retries.push_back(retry_item{self->clock().now(), std::move(lost)});
      s.id.clear();
      s.busy = false;
      --st.busy;
      st.metrics->in_flight.store(st.busy, std::memory_order_relaxed);
    }
    st.idle.erase(std::remove(st.idle.begin(), st.idle.end(), i), st.idle.end());
  }
  settle_withdrawals(self);
  redeliver_due(self);
  check_done(self);
}

void stop(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  self->delayed_send(self, st.opts.stop_timeout, deadline_atom::value);
  unblock_if_stopping(self);
  check_done(self);
}

caf::behavior reader(reader_ptr self, consumer_options opts, connection_factory make_connection,
                     caf::actor commands, std::shared_ptr<consumer_metrics> metrics) {
  auto& st = self->state;
  st.opts = std::move(opts);
  if (st.opts.consumer.empty())
    st.opts.consumer = default_consumer_name();
  st.dead_stream
    = st.opts.dead_letter_stream.empty() ? st.opts.stream + ":dead" : st.opts.dead_letter_stream;
  st.commands = std::move(commands);
  st.metrics = std::move(metrics);
  st.metrics->consumer_name = st.opts.consumer;
  st.retry = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.ack_retry = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.dead_retry_backoff = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.conn = make_connection(caf::actor{self});
  // Linked: the connection goes when the reader goes (its exit handler quits
  // on any exit reason), and a crashed connection takes the reader down.
  self->link_to(st.conn);
  self->attach_functor([m = st.metrics] {
    m->finished_ns = steady_ns();
    m->finished = true;
  });
  start_recovery_timers(self); // the group is set up once the name is leased (conn_up)
  self->set_down_handler([self](const caf::down_msg& msg) { on_worker_down(self, msg); });
  return {
    [self](credit_atom) { add_worker(self, caf::actor{}); },
    [self](credit_atom, caf::actor& relay) { add_worker(self, std::move(relay)); },
    [self](withdraw_atom) { return withdraw(self); },
    [self](send_atom) {
      for (auto& [relay, batch] : self->state.outbox)
        self->send(relay, std::move(batch));
      self->state.outbox.clear();
    },
    [self](ack_atom, uint32_t index, std::string& id) {
      on_ack(self, index, std::move(id));
      maybe_read(self);
      check_done(self);
    },
    [self](ack_batch& batch) {
      for (size_t i = 0; i < batch.slots.size() && i < batch.ids.size(); ++i)
        on_ack(self, batch.slots[i], std::move(batch.ids[i]));
      maybe_read(self);
      check_done(self);
    },
    [self](nack_atom, uint32_t index, stream_entry& entry, caf::error& err) {
      if (busy_slot(self, index, entry.id) == nullptr)
        return;
      release(self, index);
      on_failure(self, std::move(entry), err);
      maybe_read(self);
      check_done(self);
    },
    [self](flush_atom) {
      self->state.flush_armed = false;
      flush(self);
      check_done(self);
    },
    [self](retry_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.retry_epoch || !st.retry_armed)
        return;
      st.retry_armed = false;
      if (st.stopping) {
        check_done(self);
      } else if (st.current == reader_state::phase::setup) {
        if (!st.setup_outstanding && st.reads_outstanding == 0)
          setup_group(self);
      } else {
        maybe_read(self);
      }
    },
    [self](redeliver_atom) {
      self->state.redeliver_armed = false;
      redeliver_due(self);
    },
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
    [self](conn_up_atom, int64_t client_id) {
      auto& st = self->state;
      st.conn_client_id = client_id;
      if (!st.failing)
        st.metrics->set_last_error({}); // what conn_down reported is over
      // The name lease names this connection: take it now (then the group
      // is set up), or renew it with the new connection's id.
      if (!st.name_claim_started) {
        st.name_claim_started = true;
        claim_name_lease(self);
      } else if (st.name_leased) {
        claim_name_lease(self);
      }
      // A read reply lost with the connection leaves its entries pending for
      // this consumer, delivered to nobody; a read that timed out can even
      // run in Redis after this reconnect. Look for such orphans now (first
      // on the new connection, ahead of any read) and once more shortly.
      if (st.conn_lost && st.current != reader_state::phase::setup) {
        scan_orphans(self);
        self->delayed_send(self, std::chrono::seconds{1}, orphan_atom::value, false);
      }
      st.conn_lost = false;
      // Redis is back: do not sit out the rest of a backoff delay, nor grow
      // it further if Redis still needs a moment.
      st.retry.reset();
      if (st.retry_armed) {
        ++st.retry_epoch;
        self->send(self, retry_atom::value, st.retry_epoch);
      }
    },
    [self](conn_down_atom, caf::error& err) {
      // The connection logs it; keep it visible in the metrics too (before
      // the first connect nothing else would show it: the reader waits for
      // the connection to lease its name).
      self->state.metrics->set_last_error(describe(err));
      self->state.conn_client_id = -1;
      self->state.conn_lost = true;
    },
    [self](stop_atom) { stop(self); },
    [self](lease_name_atom) { renew_name_lease(self); },
    [self](streak_atom) { close_worker_streak(self); },
    [self](deadline_atom) {
      auto& st = self->state;
      auto unflushed = st.acks.size();
      for (const auto& ids : st.unconfirmed)
        unflushed += ids->size();
      st.metrics->unflushed_acks.store(unflushed);
      if (unflushed > 0)
        spdlog::error("consumer {}: stop deadline reached: {} acks of processed entries could "
                      "not be flushed (XACK failed), {} entries still in workers; all of them "
                      "stay pending and are delivered again",
                      label(st), unflushed, st.busy);
      else
        spdlog::warn("consumer {}: stop deadline reached with {} entries in workers; "
                     "they stay pending and are delivered again",
                     label(st), st.busy);
      flush(self);
      release_name_lease(self);
      self->quit();
    },
  };
}

} // namespace

bool reader_state::holds(const std::string& id) const {
  if (in_transit.count(id) > 0)
    return true;
  for (const auto& s : slots)
    if (s.busy && s.id == id)
      return true;
  for (const auto& e : waiting)
    if (e.id == id)
      return true;
  for (const auto& r : retries)
    if (r.entry.id == id)
      return true;
  for (const auto& d : dead_retry)
    if (d.id == id)
      return true;
  if (std::find(acks.begin(), acks.end(), id) != acks.end())
    return true;
  for (const auto& ids : unconfirmed)
    if (std::find(ids->begin(), ids->end(), id) != ids->end())
      return true;
  return false;
}

std::string label(const reader_state& st) {
  return st.opts.stream + "/" + st.opts.group + "/" + st.opts.consumer;
}

void maybe_read(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.setup_outstanding || st.retry_armed
      || st.current == reader_state::phase::setup)
    return;
  // New entries (`>`) may be read by two pipelined reads, keeping the
  // connection busy while the previous batch is processed. A read of the own
  // pending list goes alone: its cursor moves with each reply.
  auto max_reads = st.current == reader_state::phase::live ? 2u : 1u;
  if (st.reads_outstanding >= max_reads)
    return;
  uint64_t credits = st.credits();
  // A read costs a round trip whatever its COUNT: unless nothing at all is in
  // flight, wait for half the workers to be free rather than fetch entries
  // one by one (credits come back microseconds apart).
  bool quiet = st.busy == 0 && st.reads_outstanding == 0;
  if (!quiet && credits < std::max<uint64_t>(1, st.slots.size() / 2))
    return;
  if (st.opts.limit > 0)
    credits
      = std::min(credits, st.opts.limit - std::min(st.opts.limit, st.read_total + st.reserved));
  if (credits == 0)
    return;
  // Quiet (nothing read, nothing in flight): issue two reads that split the
  // credits. While the reply to the first travels to us and we replace it, the
  // second is already blocked at Redis, so a new entry does not wait for that
  // round trip. (One read holding every credit would leave the window open
  // after each reply.) Under load, reads stay whole: each costs a round trip.
  if (max_reads == 2 && quiet && credits > 1) {
    auto first = (credits + 1) / 2;
    read(self, first);
    read(self, credits - first);
    return;
  }
  read(self, credits);
}

void unblock_reads(reader_ptr self) {
  auto& st = self->state;
  if (st.reads_outstanding == 0 || st.current != reader_state::phase::live || st.conn_client_id < 0)
    return;
  self
    ->request(st.commands, st.opts.request_timeout,
              make_command({"CLIENT", "UNBLOCK", std::to_string(st.conn_client_id)}))
    .then([](redis_reply&) {}, [](caf::error&) {});
}

void dispatch_waiting(reader_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && !st.idle.empty()) {
    dispatch(self, std::move(st.waiting.front()));
    st.waiting.pop_front();
  }
}

void ack_later(reader_ptr self, std::string id) {
  auto& st = self->state;
  st.acks.emplace_back(std::move(id));
  if (st.acks.size() >= st.opts.ack_batch) {
    flush(self);
  } else if (!st.flush_armed) {
    st.flush_armed = true;
    self->delayed_send(self, st.opts.ack_delay, flush_atom::value);
  }
}

/// Quits once stopping (or done with `limit`) and nothing is left in flight.
void check_done(reader_ptr self) {
  auto& st = self->state;
  bool limit_done = st.opts.limit > 0 && st.read_total >= st.opts.limit;
  if (!st.stopping && !limit_done)
    return;
  if (st.setup_outstanding || st.reads_outstanding > 0 || st.busy > 0 || !st.waiting.empty()
      || st.annotating > 0 || st.reclaiming > 0 || st.dead_in_flight > 0 || st.dead_fetching > 0)
    return;
  // Done with its limit, a consumer also sees its failed entries through to
  // success or the dead-letter stream. A stopping one leaves them pending:
  // they are delivered again after a restart or claimed by another consumer.
  if (!st.stopping && (!st.retries.empty() || !st.dead_retry.empty()))
    return;
  if (!st.acks.empty() && st.acks_in_flight == 0 && !st.flush_armed)
    flush(self);
  if (!st.acks.empty() || st.acks_in_flight > 0)
    return;
  if (!st.retries.empty() || !st.dead_retry.empty())
    spdlog::info("consumer {}: {} failed entries stay pending for redelivery", label(st),
                 st.retries.size() + st.dead_retry.size());
  release_name_lease(self);
  self->quit();
}

} // namespace rill::detail

namespace rill {

caf::actor spawn_reader(caf::actor_system& sys, consumer_options opts,
                        connection_factory make_connection, caf::actor commands,
                        std::shared_ptr<consumer_metrics> metrics) {
  return sys.spawn(detail::reader, std::move(opts), std::move(make_connection), std::move(commands),
                   std::move(metrics));
}

} // namespace rill
