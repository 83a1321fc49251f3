#pragma once

#include <rill/actors/histogram.hpp>

#include <caf/error.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rill {

/// Histogram bounds (seconds), from `metrics.*-buckets`.
struct metric_buckets {
  std::vector<double> duration = default_duration_buckets();
  std::vector<double> age = default_age_buckets();
};

/// What one worker measures, into its own histograms (no other writer).
struct callback_timings {
  explicit callback_timings(const metric_buckets& b) : duration(b.duration), age(b.age) {}
  /// All callbacks of one entry, delivery to ack or nack.
  histogram duration;
  /// now - the entry ID's time, when its first callback starts.
  histogram age;
};

/// The timings of a worker pool: one `callback_timings` per worker, summed
/// when exported. A worker that dies of a callback's fault hands its own on
/// to its replacement, so the list grows only with the pool.
class worker_timings {
public:
  explicit worker_timings(metric_buckets b = {}) : buckets_(std::move(b)) {}

  /// A new worker's own timings.
  std::shared_ptr<callback_timings> add() {
    auto t = std::make_shared<callback_timings>(buckets_);
    std::lock_guard<std::mutex> guard{mtx_};
    all_.push_back(t);
    return t;
  }

  /// The sums over every worker (duration, age).
  std::pair<histogram::snapshot, histogram::snapshot> read() const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::pair<histogram::snapshot, histogram::snapshot> sums;
    sums.first.bounds = buckets_.duration;
    sums.second.bounds = buckets_.age;
    for (const auto& t : all_) {
      t->duration.add_to(sums.first);
      t->age.add_to(sums.second);
    }
    return sums;
  }

private:
  metric_buckets buckets_;
  mutable std::mutex mtx_;
  std::vector<std::shared_ptr<callback_timings>> all_;
};

/// One Redis connection's state, kept by the connection actor.
struct connection_metrics {
  /// The handshake is done and the connection has not been lost since.
  std::atomic<bool> up{false};
  /// Handshakes completed (the first connect included).
  std::atomic<uint64_t> connects{0};
  /// Connections lost or given up on (each is followed by a reconnect).
  std::atomic<uint64_t> losses{0};
};

/// The group as Redis sees it, refreshed by the group probe on a timer
/// (never per scrape). -1: not known (yet).
struct group_figures {
  /// Entries not yet delivered to the group (XINFO GROUPS `lag`; when Redis
  /// reports nil, counted or derived, see `lag_estimated`).
  std::atomic<int64_t> lag{-1};
  /// Redis had no lag figure (deleted entries in the range): `lag` was
  /// derived from the stream's ends or counted up to a bound.
  std::atomic<bool> lag_estimated{false};
  std::atomic<int64_t> pending{-1};
  std::atomic<int64_t> entries_read{-1};
  std::atomic<int64_t> length{-1};
  /// Age of the first entry after the group's last-delivered-id (0: none).
  std::atomic<int64_t> oldest_undelivered_ms{0};
  /// Idle time of the oldest pending entry (0: none pending).
  std::atomic<int64_t> oldest_pending_idle_ms{0};
  /// steady_clock ns of the last probe that worked (0: none yet).
  std::atomic<int64_t> probed_ns{0};
  /// The last probe found the group.
  std::atomic<bool> exists{false};
};

/// Counters of one consumer. The reader is the only writer; anyone may read
/// them (progress lines, tests, benchmarks). They report; they never steer:
/// flow control is credits and mailboxes.
struct consumer_metrics {
  explicit consumer_metrics(const metric_buckets& b = {}) :
    xack_rtt(b.duration), probe_rtt(b.duration), timings(std::make_shared<worker_timings>(b)) {}

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
  /// Entries whose staged effects were applied with their XACK (counted in
  /// `acked` too), and effects scripts answered.
  std::atomic<uint64_t> effects_applied{0};
  std::atomic<uint64_t> effect_scripts{0};
  /// Entries whose effects were not applied because the fence found them
  /// pending for another consumer or delivery, or no longer pending: another
  /// consumer claimed them (this one was paused past claim-min-idle) and
  /// applies or applied them. Never acked by this consumer.
  std::atomic<uint64_t> fenced{0};
  /// Effects scripts that failed as a whole (retried with backoff).
  std::atomic<uint64_t> effect_script_failures{0};
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

  // -- gauges for metrics and readiness ----------------------------------------------

  /// Workers known to the reader, and those idle with nothing spoken for.
  std::atomic<uint32_t> workers{0};
  std::atomic<uint32_t> idle_workers{0};
  /// With consumer.order-by (`ordered`): keys with an entry out, entries
  /// waiting behind busy keys, the longest such queue, and the entries that
  /// ever had to wait.
  std::atomic<bool> ordered{false};
  std::atomic<uint32_t> keys_active{0};
  std::atomic<uint32_t> keys_waiting{0};
  std::atomic<uint32_t> key_longest_queue{0};
  std::atomic<uint64_t> key_waits{0};
  /// Entries parked behind hot keys: pending in Redis, only their IDs held.
  std::atomic<uint32_t> keys_parked{0};
  /// The group exists and the reader reads from it (false until set up, and
  /// after NOGROUP until created again).
  std::atomic<bool> attached{false};
  /// steady_clock ns of the reader's start and of the last confirmed XACK.
  std::atomic<int64_t> started_ns{0};
  std::atomic<int64_t> last_ack_ns{0};
  /// Refreshed by the group probe.
  group_figures group;
  /// Round trips of XACKs (the reader) and of the probe's XINFO pipeline.
  /// Reads are not timed: a live read blocks until entries come.
  histogram xack_rtt;
  histogram probe_rtt;
  /// Callback durations and entry ages of this process's workers.
  std::shared_ptr<worker_timings> timings;
  /// The reader's own connection.
  connection_metrics connection;

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
