#pragma once

// Many event-stream clients on one thread (epoll), for `rill bench gateway`:
// they connect, send one GET each, and count the events they receive and
// how old each is (its `ts` field, µs since the epoch, against the clock
// when the bytes arrived).

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace rill::cli {

struct sse_client_plan {
  uint16_t port = 0;
  /// One request target per client ("/streams/s/events").
  std::vector<std::string> targets;
  /// Extra request header lines per client (may be empty): "Last-Event-ID: 1-0".
  std::vector<std::string> headers;
};

struct sse_client_stats {
  /// Clients whose response began with 200.
  std::atomic<uint64_t> connected{0};
  /// Clients refused, closed or failed.
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> events{0};
  /// Set by the caller to end the loop.
  std::atomic<bool> stop{false};
  /// Filled by the loop's thread; read after it returned.
  std::vector<float> latencies_us;
  std::vector<uint64_t> per_client;
  /// CPU of the loop's thread, seconds.
  double cpu_s = 0;
};

/// Runs the clients on the calling thread until `stats.stop`.
void run_sse_clients(const sse_client_plan& plan, sse_client_stats& stats);

} // namespace rill::cli
