#pragma once

#include <rill/actors/callbacks.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>

#include <caf/actor.hpp>

#include <memory>
#include <vector>

namespace rill {

class runtime;

/// One (stream, group) consumer of a runtime. Register its callbacks before
/// `runtime::start`; they run for every entry in registration order.
class consumer {
public:
  /// Appends a synchronous callback (`caf::error(const stream_entry&)` or
  /// `void(const stream_entry&)`; an error or exception fails the entry).
  template <class F>
  consumer& add(F fn) {
    callbacks_->add(std::move(fn));
    return *this;
  }

  /// Appends an asynchronous callback (see `async_context`).
  consumer& add_async(async_callback fn) {
    callbacks_->add_async(std::move(fn));
    return *this;
  }

  const consumer_options& options() const noexcept { return opts_; }

  /// The callback list itself (to fill it with prepared callbacks).
  callback_list& callbacks() noexcept { return *callbacks_; }

  /// Live counters (processed, acked, in flight, ...).
  const consumer_metrics& metrics() const noexcept { return *metrics_; }

  /// The reader actor (valid after `runtime::start`).
  const caf::actor& reader() const noexcept { return reader_; }

private:
  friend class runtime;

  consumer(consumer_options opts, const metric_buckets& buckets);

  consumer_options opts_;
  std::shared_ptr<callback_list> callbacks_;
  std::shared_ptr<consumer_metrics> metrics_;
  caf::actor reader_;
  std::shared_ptr<const effect_rules> effect_rules_;
};

} // namespace rill
