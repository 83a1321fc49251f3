#pragma once

// `rill bench`: measurements side by side in one run (never timed asserts).

#include "cli_config.hpp"
#include "json_line.hpp"
#include "percentile.hpp"
#include <rill/actors/options.hpp>
#include <rill/runtime/consumer.hpp>
#include <rill/testing/blocking_client.hpp>
#include <rill/testing/local_redis.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rill::bench {

using cli::cli_config;

/// CPU and memory of this process so far (getrusage).
struct usage {
  double user_s = 0;
  double sys_s = 0;
  long max_rss_kb = 0;
  /// Voluntary context switches: each is a thread going to sleep, to be
  /// woken up again (a futex, epoll or pipe wait), so they count wake-ups.
  long sleeps = 0;
  static usage now();
  /// The calling thread's CPU only (RUSAGE_THREAD).
  static usage this_thread();
  usage operator-(const usage& earlier) const;
  double cpu_s() const noexcept { return user_s + sys_s; }
};

/// A bench consumer: group "g", consumer "rill" (the group `prefill` creates).
consumer_options bench_consumer(std::string stream, uint32_t max_in_flight, uint64_t limit = 0);

/// What consumers that ran side by side did together: entries processed, and
/// msgs/s from the first delivery of any to the last one finishing.
struct aggregate {
  uint64_t processed = 0;
  double rate = 0;
};
aggregate aggregate_of(const std::vector<consumer*>& consumers);

/// Seconds between two steady-clock stamps in ns (at least 1 ns).
double seconds_between(int64_t from_ns, int64_t to_ns);

/// Adds peak_rss_kb, user_s and sys_s.
void add_usage(nlohmann::ordered_json& line, const usage& u);

/// Prints `line` as one line of JSON.
void print(const nlohmann::ordered_json& line);

/// The server to measure against: --redis, or a private one that `open`
/// starts and points `cfg.redis` at (stopped with this object).
struct target {
  std::optional<local_redis> server;
  caf::error open(cli_config& cfg);
};

/// A synchronous connection; throws std::runtime_error if there is none.
blocking_client connect_or_throw(const std::string& host, uint16_t port);

/// Called for each entry just before it is sent: may add fields to its XADD.
using xadd_hook = std::function<void(uint64_t seq, std::vector<std::string>& argv)>;

/// XADDs seq = 0..n-1 (payload of `payload_bytes`, plus what `hook` adds) in
/// pipelined chunks and creates `group` at 0.
void prefill(blocking_client& c, const std::string& stream, const std::string& group, uint64_t n,
             uint64_t payload_bytes, const xadd_hook& hook = {});

/// The yardstick: a single-threaded synchronous hiredis loop - XREADGROUP
/// COUNT k, then one XACK for the batch pipelined with the next read - until
/// `n` entries are acked. Returns msgs/s.
double raw_consume(blocking_client& c, const std::string& stream, const std::string& group,
                   uint64_t n, uint64_t k);

/// Steady-clock nanoseconds (for durations).
inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// Microseconds since the epoch (system clock): what `ts` fields hold.
int64_t epoch_us();

/// XADDs seq = 0..n-1 at `rate` per second from the calling thread on its
/// own connection (no actor system involved), each stamped with `ts` just
/// before it is sent. Returns what this thread used.
usage paced_xadd(blocking_client& producer, const std::string& stream, uint64_t n, uint64_t rate,
                 uint64_t payload_bytes, const xadd_hook& hook = {});

/// The latency floor's consumer: a synchronous hiredis loop on the calling
/// thread, blocked in XREADGROUP (group g, COUNT 64, BLOCK 1000; one XACK per
/// reply pipelined with the next read), until `n` entries arrived or 5 s
/// passed without one. Per entry: `ts` -> reply received, in µs.
struct raw_reader_result {
  std::vector<double> latencies_us;
  double cpu_s = 0; ///< this thread's CPU, in seconds
  long sleeps = 0;  ///< this thread's voluntary context switches
};
raw_reader_result raw_latency_reader(blocking_client& reader, const std::string& stream,
                                     uint64_t n);

using cli::percentile;
using cli::summarize;
using cli::summary;

/// Number of threads of this process.
int thread_count();

/// One rill round of `bench consume` (stream "bench:rill", prefilled):
/// msgs/s, and with --work-us the mean time from an entry's first callback
/// starting to its async wait finishing.
struct consume_round {
  double rate = 0;
  double wall_s = 0;
  double callback_us = 0;
  double per_read = 0; ///< entries per XREADGROUP
  double per_xack = 0; ///< entries per XACK
};
/// `callbacks` (without --work-us) registers the consumer's callbacks instead
/// of one that does nothing.
consume_round rill_consume_round(const cli_config& cfg, uint64_t n, uint32_t k,
                                 const std::function<void(consumer&)>& callbacks = {});

int consume_case(cli_config& cfg);
int tls_case(cli_config& cfg);
int latency_case(cli_config& cfg);
int scale_case(cli_config& cfg);
int responsiveness_case(cli_config& cfg);
int nodes_case(cli_config& cfg);
int scrape_case(cli_config& cfg);
int gateway_case(cli_config& cfg);
int cluster_case(cli_config& cfg);
int keys_case(cli_config& cfg);
int effects_case(cli_config& cfg);

} // namespace rill::bench
