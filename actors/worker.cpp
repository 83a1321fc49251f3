#include <rill/actors/worker.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

namespace rill {

namespace {

struct worker_state {
  reader_actor reader;
  /// Where acks and nacks go: the reader, or an ack relay on this node.
  ack_sink_actor acks;
  /// The ack relay, if any (it learns of this worker by a credit too).
  caf::actor relay;
  connection_actor shared_conn;
  producer_actor producer;
  std::shared_ptr<const callback_list> callbacks;
  /// What the current entry's callbacks staged (made on first use; reused
  /// while no late async callback still holds it).
  std::shared_ptr<effects> staged;
  std::shared_ptr<const effect_rules> rules;
  bool busy = false;
  uint32_t slot = 0;
  stream_entry entry;
  /// Index of the callback running now.
  size_t index = 0;
  /// Identifies the current async callback; stale completions are ignored.
  uint64_t seq = 0;
  caf::timespan timeout{0};
  /// When the callbacks of the current delivery must be done (with `timeout`).
  caf::actor_clock::time_point deadline;
  /// A deadline timer is set. One at a time per worker: a delivery does not
  /// set its own, the pending one moves on to the current deadline when it
  /// fires. (A timer per delivery kept `timeout` worth of entries' timers
  /// in CAF's clock, ~270 bytes each: 147 MB after 500,000 entries at 30 s.)
  bool timer_set = false;
  /// This worker's own histograms (null: not measured), and when the
  /// current delivery came.
  std::shared_ptr<callback_timings> timings;
  std::chrono::steady_clock::time_point started;
  /// Wall clock minus steady clock (ns), so an entry's age needs no second
  /// clock read; taken again every `clock_refresh` deliveries (NTP steps).
  int64_t wall_offset_ns = 0;
  uint32_t until_refresh = 0;

  static inline const char* name = "rill.worker";
};

using worker_ptr = caf::stateful_actor<worker_state>*;

caf::error failure(size_t index, std::string what) {
  return make_error(sec::callback_failed, "callback #" + std::to_string(index + 1) + ": " + what);
}

constexpr uint32_t clock_refresh = 1024;

void start_timing(worker_state& st) {
  using namespace std::chrono;
  st.started = steady_clock::now();
  auto steady_ns = duration_cast<nanoseconds>(st.started.time_since_epoch()).count();
  if (st.until_refresh-- == 0) {
    st.until_refresh = clock_refresh - 1;
    st.wall_offset_ns
      = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count() - steady_ns;
  }
  if (auto ms = id_time_ms(st.entry.id); ms > 0)
    st.timings->age.observe(nanoseconds{steady_ns + st.wall_offset_ns - ms * 1'000'000});
}

effects& staged(worker_state& st) {
  if (!st.staged)
    st.staged = std::make_shared<effects>(st.rules);
  return *st.staged;
}

void finish(worker_ptr self, caf::error err) {
  auto& st = self->state;
  st.busy = false;
  if (st.timings)
    st.timings->duration.observe(std::chrono::steady_clock::now() - st.started);
  std::vector<effect> fx;
  if (st.staged) {
    if (!err && !st.staged->error().empty())
      err = make_error(sec::permanent_failure, "staged effect: " + st.staged->error());
    if (!err)
      fx = st.staged->take();
    // A late async callback may still hold it: it stages into a copy nobody
    // applies, never into the next entry's.
    if (st.staged.use_count() > 1 || !st.staged->error().empty() || !st.staged->empty())
      st.staged.reset();
  }
  if (!err && !fx.empty()) {
    // Applied with the XACK by the reader; the entry comes along in case the
    // script fails it (retry, dead letter).
    self->send(st.acks, effects_atom::value, st.slot, std::move(st.entry), std::move(fx));
    st.entry = stream_entry{};
  } else if (!err) {
    self->send(st.acks, ack_atom::value, st.slot, std::move(st.entry.id));
    st.entry.fields.clear();
  } else {
    // The entry goes back (moved, not copied): the reader retries it or
    // writes it to the dead-letter stream.
    self->send(st.acks, nack_atom::value, st.slot, std::move(st.entry), std::move(err));
    st.entry = stream_entry{};
  }
}

/// Keeps rill's own failure codes, wraps anything else as callback_failed.
caf::error classify(size_t index, caf::error err) {
  switch (code_of(err)) {
    case sec::callback_failed:
    case sec::permanent_failure:
    case sec::callback_timeout:
      return err;
    default:
      return failure(index, describe(err));
  }
}

/// Runs the callbacks from `st.index` on until one is asynchronous or all ran.
void run_callbacks(worker_ptr self) {
  auto& st = self->state;
  for (; st.index < st.callbacks->size(); ++st.index) {
    const auto& cb = (*st.callbacks)[st.index];
    try {
      if (cb.sync || cb.staging) {
        if (auto err = cb.sync ? cb.sync(st.entry) : cb.staging(st.entry, staged(st))) {
          finish(self, classify(st.index, std::move(err)));
          return;
        }
        continue;
      }
      auto seq = ++st.seq;
      staged(st);
      cb.async(st.entry, async_context{self, completion{caf::actor{self}, seq}, st.shared_conn,
                                       st.producer, st.staged});
      return; // resumes in the done_atom handler
    } catch (const std::exception& ex) {
      finish(self, failure(st.index, std::string{"exception: "} + ex.what()));
      return;
    } catch (...) {
      finish(self, failure(st.index, "unknown exception"));
      return;
    }
  }
  finish(self, caf::none);
}

/// What a worker is spawned with; a worker that dies of a callback's fault
/// spawns its replacement from it.
struct worker_setup {
  reader_actor reader;
  std::shared_ptr<const callback_list> callbacks;
  connection_actor shared_conn;
  caf::timespan timeout;
  bool detached = false;
  caf::actor acks_to;
  producer_actor producer;
  std::shared_ptr<callback_timings> timings;
  std::shared_ptr<const effect_rules> rules;
};

caf::actor spawn_from(caf::actor_system& sys, const worker_setup& setup);

/// Exit reasons that end a worker on purpose: no replacement.
bool deliberate(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal || reason == caf::exit_reason::user_shutdown
         || reason == caf::exit_reason::kill || reason == caf::exit_reason::unreachable;
}

std::string what_of(const std::exception_ptr& eptr) {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

caf::behavior worker(worker_ptr self, worker_setup setup) {
  auto& st = self->state;
  // A callback's fault must not take the consumer's capacity with it. An
  // error response nobody handles (a `.then` without an error handler) fails
  // the entry and the worker goes on; an exception thrown in a response
  // handler ends the worker in CAF whatever the handler returns, so the
  // entry is nacked first and a replacement takes the worker's place.
  self->set_error_handler([self](caf::error& err) {
    auto& st = self->state;
    if (st.busy) {
      ++st.seq; // the running callback's own completion comes too late now
      finish(self, classify(st.index, std::move(err)));
    }
  });
  self->set_exception_handler([self](std::exception_ptr& eptr) -> caf::error {
    auto& st = self->state;
    auto text = "callback #" + std::to_string(st.index + 1)
                + " threw in a response handler: " + what_of(eptr);
    if (st.busy)
      finish(self, make_error(sec::callback_failed, text));
    return make_error(sec::callback_failed, text);
  });
  self->attach_functor([&sys = self->system(), setup](const caf::error& reason) {
    if (!deliberate(reason))
      spawn_from(sys, setup);
  });
  st.timeout = setup.timeout;
  st.reader = setup.reader;
  st.relay = setup.acks_to;
  st.acks = st.relay ? caf::actor_cast<ack_sink_actor>(st.relay)
                     : caf::actor_cast<ack_sink_actor>(st.reader);
  st.callbacks = setup.callbacks;
  st.shared_conn = setup.shared_conn;
  st.producer = setup.producer;
  st.timings = setup.timings;
  st.rules = setup.rules;
  self->monitor(st.reader);
  if (st.relay)
    self->monitor(st.relay); // a relay that quit (its pool drained) takes no acks
  self->set_down_handler([self](const caf::down_msg& msg) {
    if (msg.source == self->state.reader.address() || msg.source == self->state.relay.address())
      self->quit();
  });
  if (st.relay) {                             // the reader sends our entries through it too
    self->send(st.relay, credit_atom::value); // so it knows us before any entry comes
    self->send(st.reader, credit_atom::value, st.relay);
  } else {
    self->send(st.reader, credit_atom::value);
  }
  return {
    [self](delivery& d) {
      auto& st = self->state;
      if (st.busy) {
        // The reader never sends more than one entry per credit.
        spdlog::error("worker got entry {} while busy with {}", d.entry.id, st.entry.id);
        self->send(st.acks, nack_atom::value, d.slot, std::move(d.entry),
                   make_error(sec::unexpected_reply, "worker busy"));
        return;
      }
      st.busy = true;
      st.slot = d.slot;
      st.entry = std::move(d.entry);
      st.index = 0;
      if (st.timings)
        start_timing(st);
      if (st.timeout.count() > 0) {
        st.deadline = self->clock().now() + st.timeout;
        if (!st.timer_set) {
          st.timer_set = true;
          self->scheduled_send(self, st.deadline, timeout_atom::value);
        }
      }
      run_callbacks(self);
    },
    [self](timeout_atom) {
      auto& st = self->state;
      st.timer_set = false;
      if (!st.busy)
        return;
      if (self->clock().now() < st.deadline) { // set for an earlier delivery
        st.timer_set = true;
        self->scheduled_send(self, st.deadline, timeout_atom::value);
        return;
      }
      ++st.seq; // a late completion of the running callback is ignored
      finish(self, make_error(
                     sec::callback_timeout,
                     "callback #" + std::to_string(st.index + 1) + " still running after "
                       + std::to_string(
                         std::chrono::duration_cast<std::chrono::milliseconds>(st.timeout).count())
                       + " ms"));
    },
    [self](done_atom, uint64_t seq, caf::error& err) {
      auto& st = self->state;
      if (!st.busy || seq != st.seq)
        return; // a completion called late or twice
      if (err) {
        finish(self, classify(st.index, std::move(err)));
        return;
      }
      ++st.index;
      run_callbacks(self);
    },
  };
}

caf::actor spawn_from(caf::actor_system& sys, const worker_setup& setup) {
  if (setup.detached)
    return sys.spawn<caf::detached>(worker, setup);
  return sys.spawn(worker, setup);
}

} // namespace

caf::actor spawn_worker(caf::actor_system& sys, reader_actor reader,
                        std::shared_ptr<const callback_list> callbacks,
                        connection_actor shared_conn, caf::timespan timeout, bool detached,
                        caf::actor acks_to, producer_actor producer,
                        std::shared_ptr<callback_timings> timings,
                        std::shared_ptr<const effect_rules> rules) {
  return spawn_from(sys, worker_setup{std::move(reader), std::move(callbacks),
                                      std::move(shared_conn), timeout, detached, std::move(acks_to),
                                      std::move(producer), std::move(timings), std::move(rules)});
}

} // namespace rill
