#include "actors/ack_relay.hpp"

#include "runtime/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace rill {

namespace {

struct ack_relay_state {
  caf::actor reader;
  ack_batch batch;

  static inline const char* name = "rill.ack_relay";
};

caf::behavior ack_relay(caf::stateful_actor<ack_relay_state>* self, caf::actor reader) {
  self->state.reader = reader;
  self->monitor(reader);
  self->set_down_handler([self](const caf::down_msg& msg) {
    if (msg.source == self->state.reader)
      self->quit();
  });
  return {
    [self](ack_atom, uint32_t slot, std::string& id) {
      auto& b = self->state.batch;
      if (b.slots.empty()) // the flush queues behind the acks already here
        self->send(self, flush_atom::value);
      b.slots.push_back(slot);
      b.ids.push_back(std::move(id));
    },
    [self](delivery_batch& batch) {
      for (size_t i = 0; i < batch.workers.size() && i < batch.items.size(); ++i)
        self->send(batch.workers[i], std::move(batch.items[i]));
    },
    [self](flush_atom) {
      auto& st = self->state;
      self->send(st.reader, std::move(st.batch));
      st.batch = ack_batch{};
    },
  };
}

} // namespace

caf::actor spawn_ack_relay(caf::actor_system& sys, caf::actor reader) {
  return sys.spawn(ack_relay, std::move(reader));
}

} // namespace rill
