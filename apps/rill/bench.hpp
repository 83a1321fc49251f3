#pragma once

// `rill bench`: measurements side by side in one run (never timed asserts).

#include "cli_config.hpp"
#include "percentile.hpp"
#include <rill/testing/blocking_client.hpp>
#include <rill/testing/local_redis.hpp>

#include <cstdint>
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
  static usage now();
  usage operator-(const usage& earlier) const;
};

/// The server to measure against: --redis, or a private one that `open`
/// starts and points `cfg.redis` at (stopped with this object).
struct target {
  std::optional<local_redis> server;
  caf::error open(cli_config& cfg);
};

/// A synchronous connection; throws std::runtime_error if there is none.
blocking_client connect_or_throw(const std::string& host, uint16_t port);

/// XADDs seq = 0..n-1 (payload of `payload_bytes`) in pipelined chunks and
/// creates `group` at 0.
void prefill(blocking_client& c, const std::string& stream, const std::string& group, uint64_t n,
             uint64_t payload_bytes);

/// The yardstick: a single-threaded synchronous hiredis loop - XREADGROUP
/// COUNT k, then one XACK for the batch pipelined with the next read - until
/// `n` entries are acked. Returns msgs/s.
double raw_consume(blocking_client& c, const std::string& stream, const std::string& group,
                   uint64_t n, uint64_t k);

/// The latency floor: a synchronous hiredis reader blocked in XREADGROUP
/// (COUNT 64, BLOCK, one XACK per reply pipelined with the next read) on its
/// own thread, while this thread XADDs `n` entries at `rate` per second, each
/// stamped with `ts`. Returns XADD -> reply received per entry, in µs.
std::vector<double> raw_latency(const std::string& host, uint16_t port, const std::string& stream,
                                uint64_t n, uint64_t rate, uint64_t payload_bytes);

using cli::percentile;
using cli::summarize;
using cli::summary;

/// Number of threads of this process.
int thread_count();

int consume_case(cli_config& cfg);
int latency_case(cli_config& cfg);
int scale_case(cli_config& cfg);
int responsiveness_case(cli_config& cfg);
int nodes_case(cli_config& cfg);

} // namespace rill::bench
