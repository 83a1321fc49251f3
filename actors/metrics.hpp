#pragma once

#include <caf/error.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace rill {

/// Counters of one consumer. The reader is the only writer; anyone may read
/// them (progress lines, tests, benchmarks). They report; they never steer:
/// flow control is credits and mailboxes.
struct consumer_metrics {
  /// XREADGROUP calls answered.
  std::atomic<uint64_t> reads{0};
  /// Entries handed to workers.
  std::atomic<uint64_t> delivered{0};
  /// Entries whose callbacks all succeeded (ack messages received).
  std::atomic<uint64_t> processed{0};
  /// Failed deliveries (nacks): each is retried or dead-lettered.
  std::atomic<uint64_t> failed{0};
  /// Failed entries delivered again after their backoff.
  std::atomic<uint64_t> redelivered{0};
  /// Entries written to the dead-letter stream (and acked).
  std::atomic<uint64_t> dead_lettered{0};
  /// Dead-letter scripts that failed (the entry stays pending, tried again).
  std::atomic<uint64_t> dead_letter_failures{0};
  /// Entries claimed from other (dead) consumers.
  std::atomic<uint64_t> claimed{0};
  /// Workers that went down (a callback's fault, or their node); those that
  /// died of a fault are replaced at once.
  std::atomic<uint64_t> workers_down{0};
  /// Own pending entries found held by nobody and redelivered (a read whose
  /// reply was lost, or that ran in Redis after its connection closed).
  std::atomic<uint64_t> orphans{0};
  /// Consumers removed from the group for being idle with nothing pending.
  std::atomic<uint64_t> consumers_removed{0};
  /// XACK commands confirmed.
  std::atomic<uint64_t> ack_batches{0};
  /// XACK commands that failed (retried with backoff).
  std::atomic<uint64_t> ack_failures{0};
  /// Acks of processed entries the reader could not flush before it quit
  /// (their entries stay pending and are delivered again): a stop while
  /// Redis was down. `runtime::run` then returns 3.
  std::atomic<uint64_t> unflushed_acks{0};
  /// IDs confirmed by XACK replies.
  std::atomic<uint64_t> acked{0};
  /// Pending IDs whose entry was deleted from the stream (acked, never delivered).
  std::atomic<uint64_t> deleted{0};
  /// Entries delivered and not yet acked or nacked.
  std::atomic<uint32_t> in_flight{0};
  /// Most entries ever in flight at once (never above max_in_flight).
  std::atomic<uint32_t> max_in_flight_seen{0};
  /// Set when the reader has stopped (limit reached, stop, or failure).
  std::atomic<bool> finished{false};
  /// steady_clock time (ns since its epoch) of the first delivery and of the
  /// reader's end; 0 until then.
  std::atomic<int64_t> first_delivery_ns{0};
  std::atomic<int64_t> finished_ns{0};

  /// The consumer name in use (set once at start).
  std::string consumer_name;

  /// The last error the reader hit (empty when it recovered).
  std::string last_error() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_error_;
  }

  void set_last_error(std::string text) {
    std::lock_guard<std::mutex> guard{mtx_};
    last_error_ = std::move(text);
  }

  /// Set when the reader refused to run or stopped because another process
  /// holds its consumer name (`runtime::run` then returns 2).
  std::atomic<bool> refused{false};

  void set_refused(std::string text) {
    set_last_error(std::move(text));
    refused = true;
  }

private:
  mutable std::mutex mtx_;
  std::string last_error_;
};

} // namespace rill
