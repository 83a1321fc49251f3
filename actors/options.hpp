#pragma once

#include <caf/expected.hpp>
#include <caf/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rill {

struct stream_entry;

using namespace std::chrono_literals;

/// One Redis server's address.
struct redis_endpoint {
  std::string host;
  uint16_t port = 0;

  friend bool operator==(const redis_endpoint& x, const redis_endpoint& y) {
    return x.port == y.port && x.host == y.host;
  }
  friend bool operator!=(const redis_endpoint& x, const redis_endpoint& y) { return !(x == y); }
};

/// Where and how to reach Redis. Plain data; `validate` checks it once.
struct redis_options {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// ACL user for AUTH; empty means the default user (`AUTH password`).
  std::string user;
  /// Password for AUTH; empty means no AUTH. Never logged.
  std::string password;
  /// Database selected with SELECT after every (re)connect.
  int db = 0;
  /// Sent with CLIENT SETNAME after every (re)connect (empty: none).
  std::string client_name = "rill";
  /// Deadline for TCP connect plus handshake.
  caf::timespan connect_timeout = 2s;
  /// Deadline for a reply (plus any BLOCK time of the command).
  caf::timespan request_timeout = 5s;
  /// Reconnect backoff: first delay and cap (with jitter).
  caf::timespan reconnect_min = 50ms;
  caf::timespan reconnect_max = 2s;
  /// Requests accepted while connecting, before fail-fast.
  size_t max_queued = 10000;

  // -- TLS (docs/tls.md) -------------------------------------------------------------

  /// Speak TLS to Redis (a `rediss://` URL sets it).
  bool tls = false;
  /// CA certificates (PEM) to verify the server with; empty: the system store.
  std::string tls_ca_file;
  /// Client certificate and key (PEM) for servers that ask for one.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// The name to check the certificate against and send as SNI (empty: host).
  std::string tls_server_name;
  /// Accept any server certificate (logged as a warning once per process).
  bool tls_insecure = false;

  // -- Redis Cluster (docs/cluster.md) ------------------------------------------

  /// Route by hash slot over the cluster's masters (the runtime sets it from
  /// `redis.cluster`, or when the server says `cluster_enabled:1`).
  bool cluster = false;
  /// Further seed addresses besides host:port (`--redis h1:p1,h2:p2`).
  std::vector<redis_endpoint> seeds;
  /// How often the slot map is read again without a reason to.
  caf::timespan cluster_refresh = 10s;

  // -- Sentinel (docs/sentinel.md) ----------------------------------------------

  /// Sentinels to ask for the master's address (host and port above are then
  /// not used). The master is asked for again on every lost connection, on
  /// `+switch-master` and on a READONLY reply.
  std::vector<redis_endpoint> sentinels;
  /// The master's name in the sentinels' configuration.
  std::string sentinel_master;
  /// AUTH password for the sentinels (not the master's); never logged.
  std::string sentinel_password;
  /// How often the sentinels are asked again without a reason to.
  caf::timespan sentinel_refresh = 5s;
};

/// One consumer: a (stream, group) pair processed by `max_in_flight` workers.
struct consumer_options {
  std::string stream;
  std::string group;
  /// Consumer name inside the group; empty means "<hostname>-<pid>".
  std::string consumer;
  /// Worker pool size = credits = the most entries read but not yet acked.
  uint32_t max_in_flight = 64;
  /// Spawn the `max_in_flight` workers in this process. Off for a reader whose
  /// workers run on other nodes (they bring their own credits).
  bool local_workers = true;
  /// How long one XREADGROUP may block waiting for new entries.
  caf::timespan block = 1000ms;
  /// Flush acks when this many are batched ...
  uint32_t ack_batch = 256;
  /// ... or this long after the first ack of a batch arrived. Each flush by
  /// this timer costs wake-ups (CAF's clock thread twice, then the reader's
  /// scheduler thread): at 1,000 entries/s, 5 ms instead of 1 ms took the
  /// consumer from 5.4 to 3.2 wake-ups per entry (docs/benchmarks.md). A
  /// crash re-runs the entries of at most this window.
  caf::timespan ack_delay = 5ms;
  /// A worker pool on another node than its reader sends its workers' acks as
  /// one message when the last entry of a delivery batch is done, or this long
  /// after the batch's first ack.
  caf::timespan ack_linger = 200us;
  /// ID the group starts at when rill creates it ("0": whole stream, "$": new).
  std::string start_id = "0";
  /// Read at most this many entries in this run, then stop (0: unlimited).
  uint64_t limit = 0;
  /// How long a graceful stop waits for in-flight entries.
  caf::timespan stop_timeout = 10s;
  /// Reply deadline for the reader's requests on top of BLOCK (the runtime
  /// sets it from redis.request-timeout + redis.connect-timeout).
  caf::timespan request_timeout = 7s;
  /// Delay before retrying after an error (first delay and cap, with jitter).
  caf::timespan retry_min = 100ms;
  caf::timespan retry_max = 5s;

  // -- per-key order (docs/key-order.md) ------------------------------------------

  /// The field whose value orders entries: those with the same value run one
  /// after another in stream order, different values in parallel. Entries
  /// without the field are not ordered. Empty: no ordering.
  std::string order_by;
  /// Instead of order_by, in C++: the entry's key, or nothing (not ordered).
  /// Runs in the reader for every entry read or redelivered, so keep it cheap
  /// and deterministic; an entry for which it throws is dead-lettered with the
  /// exception's message (its key cannot be known, so it cannot wait in order).
  std::function<std::optional<std::string>(const stream_entry&)> order_key;
  /// With `order_by`: entries that may wait behind a busy key, on top of the
  /// workers' (0: as many as there are workers). The one exception to "never
  /// more than max_in_flight read and not acked".
  uint32_t max_waiting = 0;
  /// With `order_by`: a key keeps at most a quarter of max_waiting entries
  /// waiting in memory; its later ones are *parked* - only their IDs are
  /// kept, the entries stay pending in Redis and are read back (XRANGE) when
  /// the key gets to them - so a hot key cannot fill the window and starve
  /// the other keys. At most this many parked IDs, then reading pauses.
  /// 0: nothing parked (a hot key's backlog fills the window).
  uint32_t max_parked = 100000;
  /// With `order_by`: an entry that has held its key this long since its
  /// first failure is dead-lettered at its next failure (its redeliveries are
  /// brought forward to that time), so one bad entry cannot pin its key for
  /// max_deliveries backoffs. 0: off.
  caf::timespan max_key_hold = caf::timespan{0};

  // -- failures and recovery ------------------------------------------------------

  /// Deliveries (Redis' own per-entry count) before a failing entry is
  /// dead-lettered.
  uint32_t max_deliveries = 5;
  /// Wait before redelivering a failed entry: redeliver_base * 2^(n-1) after
  /// the n-th delivery, capped at redeliver_cap, with jitter.
  caf::timespan redeliver_base = 100ms;
  caf::timespan redeliver_cap = 10s;
  /// Stream receiving dead letters (empty: "<stream>:dead").
  std::string dead_letter_stream;
  /// Entries idle this long in other consumers' pending lists are claimed
  /// (XAUTOCLAIM); 0 disables claiming. Every consumer of a group should use
  /// the same value: leases are renewed at a third of it.
  caf::timespan claim_min_idle = 30s;
  /// How often to look for entries to claim.
  caf::timespan claim_interval = 2s;
  /// The consumer name is leased to one process for this long, renewed at a
  /// third of it: a second process with the same name is refused (0: not
  /// checked). A process frozen for longer loses the name and stops.
  caf::timespan name_lease = 15s;
  /// How often to look for own pending entries that no worker holds (a read
  /// that ran in Redis after rill gave up on it); 0: only after reconnects.
  caf::timespan orphan_check = 10s;
  /// Consumers of the group with nothing pending, idle this long, are removed
  /// (0: never).
  caf::timespan consumer_idle_timeout = 1h;
  /// An asynchronous callback running longer than this fails its entry
  /// (0: no limit). A synchronous callback cannot be interrupted. The
  /// default catches a forgotten `done()`, which would otherwise hold its
  /// entry for good (its lease keeps it from being claimed); a longer job
  /// keeps its entry as long as this allows.
  caf::timespan callback_timeout = 5min;

  // -- exactly-once effects (docs/exactly-once.md) -------------------------------

  /// Keys the generic `effects::command` form may write (globs). In Redis
  /// Cluster each must lie in the stream's slot (checked at start).
  std::vector<std::string> effect_keys;
};

/// The producer: XADD with optional approximate trimming.
struct producer_options {
  /// `MAXLEN ~ maxlen` on every XADD (0: no trimming).
  uint64_t maxlen = 0;
  /// Requests (single XADDs or pipelined batches) outstanding at Redis.
  uint32_t max_in_flight = 16;
  /// Further requests waiting in the producer; beyond this, `sec::backpressure`.
  uint32_t max_queued = 256;
  /// Bytes of field names and values the producer holds (outstanding and
  /// queued); beyond this, `sec::backpressure`. A single request larger than
  /// this still goes, alone.
  uint64_t max_bytes = 64 << 20;
};

/// "host:port", or "[v6::address]:port" for IPv6 literals.
std::string endpoint_text(const std::string& host, uint16_t port);
inline std::string endpoint_text(const redis_endpoint& ep) {
  return endpoint_text(ep.host, ep.port);
}

/// Returns "<hostname>-<pid>", the default consumer name.
std::string default_consumer_name();

/// Checks ranges and required fields; the error says which option is wrong.
caf::error validate(const redis_options& x);
caf::error validate(const consumer_options& x);
caf::error validate(const producer_options& x);

} // namespace rill
