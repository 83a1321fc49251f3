#include <rill/actors/tail_subscriber.hpp>

#include <rill/actors/messages.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

namespace rill {

namespace {

struct subscriber_state {
  caf::actor tailer;
  tail_callbacks callbacks;
  uint32_t window = 256;
  /// The last ID the callback saw (where a resubscription starts).
  std::string last_id;

  static inline const char* name = "rill.tail_subscriber";
};

using subscriber_ptr = caf::stateful_actor<subscriber_state>*;

void subscribe(subscriber_ptr self, std::string from) {
  auto& st = self->state;
  self->send(st.tailer, subscribe_atom::value, caf::actor{self}, std::move(from));
  self->send(st.tailer, credit_atom::value, st.window);
}

caf::behavior subscriber(subscriber_ptr self, caf::actor tailer, std::string from,
                         tail_callbacks callbacks, uint32_t window) {
  auto& st = self->state;
  st.tailer = std::move(tailer);
  st.callbacks = std::move(callbacks);
  st.window = std::max<uint32_t>(1, window);
  st.last_id = from;
  // No tailer, nothing to follow. Monitored, not linked: a subscriber that
  // goes must not take the tailer and the other subscribers with it.
  self->monitor(st.tailer);
  self->set_down_handler([self](const caf::down_msg& msg) { self->quit(msg.reason); });
  subscribe(self, std::move(from));
  return {
    [self](entries_atom, const std::vector<stream_entry>& entries) {
      auto& st = self->state;
      for (const auto& e : entries) {
        try {
          st.callbacks.on_entry(e);
        } catch (const std::exception& ex) {
          // Nothing to retry against (no group): say so and go on.
          spdlog::error("tail subscriber: callback failed on {}: {}", e.id, ex.what());
        }
        st.last_id = e.id;
      }
      if (!st.callbacks.caller_grants_credit)
        self->send(st.tailer, credit_atom::value, static_cast<uint32_t>(entries.size()));
    },
    [self](credit_atom, uint32_t n) { self->send(self->state.tailer, credit_atom::value, n); },
    [self](gap_atom, const std::string& first_available) {
      auto& st = self->state;
      spdlog::warn("tail subscriber: entries after {} were trimmed; going on at {}",
                   st.last_id.empty() ? "the start" : st.last_id,
                   first_available.empty() ? "the next new entry" : first_available);
      if (st.callbacks.on_gap)
        st.callbacks.on_gap(first_available);
    },
    [self](dropped_atom, const std::string& last) {
      // Fell behind the tailer's buffer: catch up from where we are.
      auto& st = self->state;
      auto from = last.empty() ? st.last_id : last;
      subscribe(self, from.empty() ? std::string{"0-0"} : from);
    },
  };
}

} // namespace

caf::actor spawn_tail_subscriber(caf::actor_system& sys, caf::actor tailer, std::string from,
                                 tail_callbacks callbacks, uint32_t window) {
  return sys.spawn(subscriber, std::move(tailer), std::move(from), std::move(callbacks), window);
}

} // namespace rill
