#pragma once

// rill's own settings: plain, copyable data (no CAF config inside). rill::config
// parses them from flags and the config file; the runtime keeps a copy and
// reads nothing else of the caller's config.

#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rill {

/// `http.*`: the process's one HTTP server (metrics, probes, dashboard).
struct http_settings {
  /// `HOST:PORT` or a bare port (binds 127.0.0.1); empty: no server.
  std::string listen;
  /// Bearer token required for everything but /livez and /readyz (empty:
  /// none). From `--http.token`, RILL_HTTP_TOKEN or the config file; never logged.
  std::string token;
  /// /readyz fails when no entry completed for this long while lag > 0.
  caf::timespan ready_stall = std::chrono::seconds{60};
  /// Connections held at once; more are closed at accept.
  uint64_t max_connections = 256;
};

/// `metrics.*`.
struct metrics_settings {
  /// How often each consumer's group probe asks Redis for lag and ages.
  caf::timespan interval = std::chrono::seconds{5};
  /// Add a `consumer` label (the consumer name) to the per-group series.
  bool per_consumer = false;
  /// Callback duration and entry age histograms once per process instead of
  /// per (stream, group): a scrape of 1,000 consumers gets ~2x smaller.
  bool process_histograms = false;
  metric_buckets buckets;
};

struct settings {
  redis_options redis;
  consumer_options consumer;
  producer_options producer;
  http_settings http;
  metrics_settings metrics;
  /// spdlog level: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  /// The runtime blocks SIGINT and SIGTERM in every thread and `run` takes
  /// them (the first stops gracefully, a second exits 130). false, for an
  /// app that owns its signals: the mask is left alone, `run` only waits for
  /// its `done` (or the consumers), and the app calls `stop()` (any thread).
  bool take_signals = true;

  // -- short flags ------------------------------------------------------------------

  /// `--redis HOST:PORT`, overrides redis.host and redis.port.
  std::string redis_address;
  /// `--count N`: entries to produce, or to consume before exiting (0: until
  /// SIGINT/SIGTERM).
  uint64_t count = 0;
  /// `rill node`: publish this node's readers on `--listen [HOST:]PORT`,
  /// and/or run workers for a reader node at `--join HOST:PORT`.
  std::string listen;
  std::string join;
  /// `node.readers` / `node.workers`: the roles of a `rill node` (see
  /// runtime/node_roles.hpp).
  std::vector<std::string> node_readers;
  std::vector<std::string> node_workers;
  /// Without TLS, nodes must say so.
  bool plain = false;
  /// A reader node whose workers all run on other nodes.
  bool remote_workers_only = false;
  /// `--scheduler-threads N` shortcut for CAF's scheduler.max-threads (0: the
  /// number of cores).
  uint64_t scheduler_threads = 0;
};

} // namespace rill
