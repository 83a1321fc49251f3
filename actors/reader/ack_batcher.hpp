#pragma once

// Acks of processed entries, batched into XACKs: a batch goes when it is full
// or when the ack delay has passed since its first ID. A failed XACK puts its
// IDs back in front (XACK is idempotent; dropping them would mean processing
// the entries again after a restart). Plain data, no actor inside: the reader
// sends the XACKs and arms the timers this class asks for.

#include <memory>
#include <string>
#include <vector>

namespace rill::detail {

class ack_batcher {
public:
  using batch_ptr = std::shared_ptr<std::vector<std::string>>;

  /// What the reader must do after an ack was added.
  enum class next { nothing, arm_timer, flush_now };

  explicit ack_batcher(size_t batch_size = 1) : batch_size_(batch_size) {}

  next add(std::string id);

  /// All pending IDs as the next XACK, now in flight; nullptr if none.
  batch_ptr take();

  /// The XACK of `batch` succeeded.
  void confirmed(const batch_ptr& batch);

  /// The XACK of `batch` failed: its IDs are pending again. Returns true if
  /// the reader must arm the flush timer (it is not armed yet).
  bool failed(const batch_ptr& batch);

  /// The flush timer fired (or is not needed any more).
  void timer_fired() noexcept { armed_ = false; }
  bool armed() const noexcept { return armed_; }

  size_t pending() const noexcept { return pending_.size(); }
  size_t batches_in_flight() const noexcept { return in_flight_.size(); }
  /// IDs not confirmed by Redis yet: pending plus in flight.
  size_t unflushed() const noexcept;
  /// Nothing pending, nothing in flight.
  bool settled() const noexcept { return pending_.empty() && in_flight_.empty(); }

  bool holds(const std::string& id) const;

private:
  void forget(const batch_ptr& batch);

  size_t batch_size_;
  std::vector<std::string> pending_;
  std::vector<batch_ptr> in_flight_;
  bool armed_ = false;
};

} // namespace rill::detail
