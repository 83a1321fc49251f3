#include <rill/actors/ack_relay.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <unordered_map>

namespace rill {

namespace {

struct ack_relay_state {
  caf::actor reader;
  caf::timespan linger{0};
  caf::timespan drain_timeout{0};
  bool withdrawing = false;
  /// This node's workers of the pool, by actor id (see delivery_batch).
  std::unordered_map<caf::actor_id, caf::actor> workers;
  ack_batch batch;
  /// Entries of one delivery batch (a read's share for this node) finish
  /// together: the burst each held slot came in, and each burst's entries not
  /// yet acked or nacked.
  std::unordered_map<uint32_t, uint64_t> burst_of;
  std::unordered_map<uint64_t, size_t> left;
  uint64_t bursts = 0;
  /// Names the pending flush timer; a flush sent earlier for a batch that
  /// already left carries an older number and is ignored.
  uint64_t batch_no = 0;

  static inline const char* name = "rill.ack_relay";
};

using relay_ptr = caf::stateful_actor<ack_relay_state>*;

void flush(relay_ptr self) {
  auto& st = self->state;
  ++st.batch_no;
  if (st.batch.empty())
    return;
  self->send(st.reader, std::move(st.batch));
  st.batch = ack_batch{};
}

/// The first ack or entry with effects of a batch arms its flush.
void arm_flush(relay_ptr self) {
  auto& st = self->state;
  if (!st.batch.empty())
    return;
  if (st.linger.count() > 0)
    self->delayed_send(self, st.linger, flush_atom::value, st.batch_no);
  else // queues behind the acks already in the mailbox
    self->send(self, flush_atom::value, st.batch_no);
}

/// The entry of `slot` is done; the last one of its burst sends the batch now
/// (those credits make a read of their own at the reader).
void settle(relay_ptr self, uint32_t slot) {
  auto& st = self->state;
  auto i = st.burst_of.find(slot);
  if (i == st.burst_of.end())
    return;
  auto j = st.left.find(i->second);
  st.burst_of.erase(i);
  if (j != st.left.end() && --j->second == 0) {
    st.left.erase(j);
    flush(self);
  }
}

caf::behavior ack_relay(relay_ptr self, caf::actor reader, caf::timespan linger,
                        caf::timespan drain_timeout) {
  self->state.reader = reader;
  self->state.linger = linger;
  self->state.drain_timeout = drain_timeout;
  self->monitor(reader);
  self->set_down_handler([self](const caf::down_msg& msg) {
    if (msg.source == self->state.reader)
      self->quit();
  });
  return {
    [self](ack_atom, uint32_t slot, std::string& id) {
      auto& st = self->state;
      arm_flush(self);
      st.batch.slots.push_back(slot);
      st.batch.ids.push_back(std::move(id));
      settle(self, slot);
    },
    [self](nack_atom a, uint32_t slot, stream_entry& entry, caf::error& err) {
      self->send(self->state.reader, a, slot, std::move(entry), std::move(err));
      settle(self, slot);
    },
    [self](effects_atom, uint32_t slot, stream_entry& entry, std::vector<effect>& fx) {
      // With the acks: a consumer with effects has them on every entry.
      auto& st = self->state;
      arm_flush(self);
      st.batch.effect_slots.push_back(slot);
      st.batch.effect_entries.push_back(std::move(entry));
      st.batch.effects.push_back(std::move(fx));
      settle(self, slot);
    },
    [self](credit_atom) {
      if (auto worker = caf::actor_cast<caf::actor>(self->current_sender()))
        self->state.workers.emplace(worker.id(), std::move(worker));
    },
    [self](delivery_batch& batch) {
      auto& st = self->state;
      auto n = std::min(batch.workers.size(), batch.items.size());
      auto burst = st.bursts++;
      for (size_t i = 0; i < n; ++i) {
        auto& item = batch.items[i];
        auto worker = st.workers.find(batch.workers[i]);
        if (worker == st.workers.end()) { // never happens: workers register first
          spdlog::error("ack relay: entry {} for unknown worker {}", item.entry.id,
                        batch.workers[i]);
          self->send(st.reader, nack_atom::value, item.slot, std::move(item.entry),
                     make_error(sec::unexpected_reply, "no such worker at the relay"));
          continue;
        }
        auto [it, fresh] = st.burst_of.emplace(item.slot, burst);
        if (fresh)
          ++st.left[burst];
        self->send(worker->second, std::move(item));
      }
    },
    [self](flush_atom, uint64_t batch_no) {
      if (batch_no == self->state.batch_no)
        flush(self);
    },
    [self](withdraw_atom) {
      if (self->state.withdrawing)
        return;
      self->state.withdrawing = true;
      // The node stops: the acks so far go first (same sender, same order);
      // the workers' last acks follow while the reader waits for them.
      flush(self);
      self->request(self->state.reader, self->state.drain_timeout, withdraw_atom::value)
        .then([self](drained_atom) { self->quit(); },
              [self](caf::error& err) {
                spdlog::warn("worker pool: stopping without draining: {}", describe(err));
                self->quit();
              });
    },
  };
}

} // namespace

caf::actor spawn_ack_relay(caf::actor_system& sys, caf::actor reader, caf::timespan linger,
                           caf::timespan drain_timeout) {
  return sys.spawn(ack_relay, std::move(reader), linger, drain_timeout);
}

} // namespace rill
