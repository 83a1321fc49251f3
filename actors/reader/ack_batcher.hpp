#pragma once

// Acks of processed entries, batched into XACKs: a batch goes when it is full
// or when the ack delay has passed since its first ID. A failed XACK puts its
// IDs back in front (XACK is idempotent; dropping them would mean processing
// the entries again after a restart). Plain data, no actor inside: the reader
// sends the XACKs and arms the timers this class asks for.
//
// The same rules batch entries with staged effects into the effects script
// (`effect_batcher`): the script is idempotent too, by its fence.

#include <rill/actors/redis/effect_script.hpp>

#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace rill::detail {

inline const std::string& id_of(const std::string& id) noexcept {
  return id;
}
inline const std::string& id_of(const effect_item& x) noexcept {
  return x.entry.id;
}

template <class Item>
class batcher {
public:
  using batch_ptr = std::shared_ptr<std::vector<Item>>;

  /// What the reader must do after an item was added.
  enum class next { nothing, arm_timer, flush_now };

  explicit batcher(size_t batch_size = 1) : batch_size_(batch_size) {}

  next add(Item item) {
    pending_.emplace_back(std::move(item));
    if (pending_.size() >= batch_size_)
      return next::flush_now;
    if (armed_)
      return next::nothing;
    armed_ = true;
    return next::arm_timer;
  }

  /// At most `max` pending items (all by default) as the next batch, now in
  /// flight; nullptr if none.
  batch_ptr take(size_t max = std::numeric_limits<size_t>::max()) {
    if (pending_.empty())
      return nullptr;
    auto batch = std::make_shared<std::vector<Item>>();
    if (max >= pending_.size()) {
      *batch = std::move(pending_);
      pending_.clear();
    } else {
      batch->assign(std::make_move_iterator(pending_.begin()),
                    std::make_move_iterator(pending_.begin() + static_cast<long>(max)));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(max));
    }
    in_flight_.push_back(batch);
    return batch;
  }

  /// The batch went through.
  void confirmed(const batch_ptr& batch) { forget(batch); }

  /// The batch failed: its items are pending again, in front. Returns true if
  /// the reader must arm the flush timer (it is not armed yet).
  bool failed(const batch_ptr& batch) {
    forget(batch);
    pending_.insert(pending_.begin(), std::make_move_iterator(batch->begin()),
                    std::make_move_iterator(batch->end()));
    batch->clear();
    if (armed_)
      return false;
    armed_ = true;
    return true;
  }

  /// The flush timer fired (or is not needed any more).
  void timer_fired() noexcept { armed_ = false; }
  bool armed() const noexcept { return armed_; }

  size_t pending() const noexcept { return pending_.size(); }
  /// The items waiting for the next batch, oldest first.
  const std::vector<Item>& waiting() const noexcept { return pending_; }
  size_t batches_in_flight() const noexcept { return in_flight_.size(); }
  /// Items not confirmed by Redis yet: pending plus in flight.
  size_t unflushed() const noexcept {
    auto n = pending_.size();
    for (const auto& batch : in_flight_)
      n += batch->size();
    return n;
  }
  /// Nothing pending, nothing in flight.
  bool settled() const noexcept { return pending_.empty() && in_flight_.empty(); }

  bool holds(const std::string& id) const {
    auto same = [&](const Item& x) {
      return id_of(x) == id;
    };
    if (std::any_of(pending_.begin(), pending_.end(), same))
      return true;
    return std::any_of(in_flight_.begin(), in_flight_.end(), [&](const batch_ptr& batch) {
      return std::any_of(batch->begin(), batch->end(), same);
    });
  }

private:
  void forget(const batch_ptr& batch) {
    in_flight_.erase(std::remove(in_flight_.begin(), in_flight_.end(), batch), in_flight_.end());
  }

  size_t batch_size_;
  std::vector<Item> pending_;
  std::vector<batch_ptr> in_flight_;
  bool armed_ = false;
};

using ack_batcher = batcher<std::string>;
using effect_batcher = batcher<effect_item>;

} // namespace rill::detail
