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
  /// Connections held at once; more are closed at accept (the gateway's
  /// event streams come on top: gateway.max-clients).
  uint64_t max_connections = 256;
  /// A file holding the token (read when http.token is not given; a
  /// trailing newline is dropped).
  std::string token_file;
};

/// `gateway.*`: the streams' entries as server-sent events on the HTTP
/// server, `GET /streams/{key}/events` (runtime/gateway.hpp,
/// docs/gateway.md). Clients need `http.token` when one is set.
struct gateway_settings {
  /// Serve /streams/... (`rill gateway` turns it on).
  bool enabled = false;
  /// The entry field whose value names each event (`event:`); entries
  /// without it are `message` events.
  std::string event_field = "event";
  /// A comment line to every client this often, so proxies and browsers
  /// keep idle streams open.
  caf::timespan heartbeat = std::chrono::seconds{15};
  /// The `retry:` hint: how long a browser waits before reconnecting.
  caf::timespan retry = std::chrono::seconds{2};
  /// Origins allowed to read the events from another site (CORS); "*" any.
  /// Empty: no CORS headers (same origin only).
  std::vector<std::string> cors_origins;
  /// Stream keys clients may follow: a glob (fnmatch: *, ?, [...]).
  std::string streams = "*";
  /// Event-stream clients held at once; more get 503.
  uint64_t max_clients = 10000;
  /// Bytes queued for one client beyond what its socket took; a client past
  /// it is dropped (it reconnects and resumes with Last-Event-ID).
  uint64_t client_buffer = uint64_t{1} << 20;
  /// Streams followed at once (one tailer connection each); more get 503.
  uint64_t max_streams = 100;
  /// Recent events kept per stream: a client resuming within them is served
  /// from memory, older IDs from Redis (XRANGE).
  uint64_t replay = 1024;
  /// A stream without clients is let go (its connection closed) after this.
  caf::timespan linger = std::chrono::seconds{10};
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
  gateway_settings gateway;
  metrics_settings metrics;
  /// `redis.url` (a config file's form of `--redis URL`).
  std::string redis_url;
  /// `redis.cluster`: "auto" (cluster mode if the server says
  /// cluster_enabled:1, or with several seeds), "true" or "false".
  std::string redis_cluster = "auto";
  /// `redis.sentinels`: "HOST:PORT,HOST:PORT,..." (parsed into redis.sentinels).
  std::string redis_sentinels;
  /// spdlog level: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  /// The runtime blocks SIGINT and SIGTERM in every thread and `run` takes
  /// them (the first stops gracefully, a second exits 130). false, for an
  /// app that owns its signals: the mask is left alone, `run` only waits for
  /// its `done` (or the consumers), and the app calls `stop()` (any thread).
  bool take_signals = true;

  // -- short flags ------------------------------------------------------------------

  /// `--redis HOST:PORT[,HOST:PORT...]`, overrides redis.host and
  /// redis.port; further addresses are cluster seeds (redis.seeds).
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
