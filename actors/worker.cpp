#include "actors/worker.hpp"

#include "runtime/error.hpp"
#include "runtime/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

namespace rill {

namespace {

struct worker_state {
  caf::actor reader;
  std::shared_ptr<const callback_list> callbacks;
  bool busy = false;
  uint32_t slot = 0;
  stream_entry entry;
  /// Index of the callback running now.
  size_t index = 0;
  /// Identifies the current async callback; stale completions are ignored.
  uint64_t seq = 0;

  static inline const char* name = "rill.worker";
};

using worker_ptr = caf::stateful_actor<worker_state>*;

caf::error failure(size_t index, std::string what) {
  return make_error(sec::callback_failed, "callback #" + std::to_string(index + 1) + ": " + what);
}

void finish(worker_ptr self, caf::error err) {
  auto& st = self->state;
  st.busy = false;
  if (!err)
    self->send(st.reader, ack_atom::value, st.slot, std::move(st.entry.id));
  else
    self->send(st.reader, nack_atom::value, st.slot, std::move(st.entry.id), std::move(err));
  st.entry.fields.clear();
}

/// Runs the callbacks from `st.index` on until one is asynchronous or all ran.
void run_callbacks(worker_ptr self) {
  auto& st = self->state;
  for (; st.index < st.callbacks->size(); ++st.index) {
    const auto& cb = (*st.callbacks)[st.index];
    try {
      if (cb.sync) {
        if (auto err = cb.sync(st.entry)) {
          finish(self, code_of(err) == sec::callback_failed ? std::move(err)
                                                            : failure(st.index, describe(err)));
          return;
        }
        continue;
      }
      auto seq = ++st.seq;
      cb.async(st.entry, async_context{self, completion{caf::actor{self}, seq}});
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

caf::behavior worker(worker_ptr self, caf::actor reader,
                     std::shared_ptr<const callback_list> callbacks) {
  auto& st = self->state;
  st.reader = std::move(reader);
  st.callbacks = std::move(callbacks);
  self->monitor(st.reader);
  self->set_down_handler([self](const caf::down_msg& msg) {
    if (msg.source == self->state.reader)
      self->quit();
  });
  self->send(st.reader, credit_atom::value);
  return {
    [self](delivery& d) {
      auto& st = self->state;
      if (st.busy) {
        // The reader never sends more than one entry per credit.
        spdlog::error("worker got entry {} while busy with {}", d.entry.id, st.entry.id);
        self->send(st.reader, nack_atom::value, d.slot, std::move(d.entry.id),
                   make_error(sec::unexpected_reply, "worker busy"));
        return;
      }
      st.busy = true;
      st.slot = d.slot;
      st.entry = std::move(d.entry);
      st.index = 0;
      run_callbacks(self);
    },
    [self](done_atom, uint64_t seq, caf::error& err) {
      auto& st = self->state;
      if (!st.busy || seq != st.seq)
        return; // a completion called late or twice
      if (err) {
        finish(self, code_of(err) == sec::callback_failed ? std::move(err)
                                                          : failure(st.index, describe(err)));
        return;
      }
      ++st.index;
      run_callbacks(self);
    },
  };
}

} // namespace

caf::actor spawn_worker(caf::actor_system& sys, caf::actor reader,
                        std::shared_ptr<const callback_list> callbacks, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(worker, std::move(reader), std::move(callbacks));
  return sys.spawn(worker, std::move(reader), std::move(callbacks));
}

} // namespace rill
