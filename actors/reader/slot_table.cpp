#include <rill/actors/reader/slot_table.hpp>

#include <algorithm>

namespace rill::detail {

uint32_t slot_table::add(caf::actor worker, caf::actor relay) {
  auto index = static_cast<uint32_t>(slots_.size());
  slots_.push_back(slot{std::move(worker), std::move(relay), slot_state::idle, {}, {}});
  idle_.push_back(index);
  return index;
}

uint32_t slot_table::acquire(std::string id, steady::time_point now) {
  auto index = idle_.back();
  idle_.pop_back();
  auto& s = slots_[index];
  s.state = slot_state::busy;
  s.id = std::move(id);
  s.since = now;
  ++busy_;
  return index;
}

const slot* slot_table::holding(uint32_t index, const std::string& id) const {
  if (index >= slots_.size() || !slots_[index].holds_entry() || slots_[index].id != id)
    return nullptr;
  return &slots_[index];
}

bool slot_table::release(uint32_t index) {
  auto& s = slots_[index];
  s.id.clear();
  --busy_;
  if (s.state == slot_state::retiring) {
    s.state = slot_state::gone;
    return false;
  }
  s.state = slot_state::idle;
  idle_.push_back(index);
  return true;
}

size_t slot_table::withdraw(const caf::actor_addr& relay) {
  size_t n = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.relay.address() != relay)
      continue;
    if (s.state == slot_state::idle) {
      s.state = slot_state::gone;
      drop_idle(i);
      ++n;
    } else if (s.state == slot_state::busy) {
      s.state = slot_state::retiring;
      ++n;
    }
  }
  return n;
}

bool slot_table::relay_busy(const caf::actor_addr& relay) const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const slot& s) { return s.holds_entry() && s.relay.address() == relay; });
}

std::vector<std::string> slot_table::worker_down(const caf::actor_addr& worker) {
  std::vector<std::string> held;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.state == slot_state::gone || s.worker.address() != worker)
      continue;
    if (s.holds_entry()) {
      --busy_;
      held.push_back(std::move(s.id));
      s.id.clear();
    } else {
      held.emplace_back();
      drop_idle(i);
    }
    s.state = slot_state::gone;
  }
  return held;
}

bool slot_table::holds(const std::string& id) const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const slot& s) { return s.holds_entry() && s.id == id; });
}

void slot_table::drop_idle(uint32_t index) {
  idle_.erase(std::remove(idle_.begin(), idle_.end(), index), idle_.end());
}

} // namespace rill::detail
