#include <rill/actors/reader/ack_batcher.hpp>

#include <algorithm>
#include <iterator>

namespace rill::detail {

ack_batcher::next ack_batcher::add(std::string id) {
  pending_.emplace_back(std::move(id));
  if (pending_.size() >= batch_size_)
    return next::flush_now;
  if (armed_)
    return next::nothing;
  armed_ = true;
  return next::arm_timer;
}

ack_batcher::batch_ptr ack_batcher::take() {
  if (pending_.empty())
    return nullptr;
  auto batch = std::make_shared<std::vector<std::string>>(std::move(pending_));
  pending_.clear();
  in_flight_.push_back(batch);
  return batch;
}

void ack_batcher::confirmed(const batch_ptr& batch) {
  forget(batch);
}

bool ack_batcher::failed(const batch_ptr& batch) {
  forget(batch);
  pending_.insert(pending_.begin(), std::make_move_iterator(batch->begin()),
                  std::make_move_iterator(batch->end()));
  batch->clear();
  if (armed_)
    return false;
  armed_ = true;
  return true;
}

size_t ack_batcher::unflushed() const noexcept {
  auto n = pending_.size();
  for (const auto& batch : in_flight_)
    n += batch->size();
  return n;
}

bool ack_batcher::holds(const std::string& id) const {
  if (std::find(pending_.begin(), pending_.end(), id) != pending_.end())
    return true;
  return std::any_of(in_flight_.begin(), in_flight_.end(), [&](const batch_ptr& batch) {
    return std::find(batch->begin(), batch->end(), id) != batch->end();
  });
}

void ack_batcher::forget(const batch_ptr& batch) {
  in_flight_.erase(std::remove(in_flight_.begin(), in_flight_.end(), batch), in_flight_.end());
}

} // namespace rill::detail
