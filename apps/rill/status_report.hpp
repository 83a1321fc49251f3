#pragma once

#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/group_info.hpp>
#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rill::cli {

struct group_status {
  group_info info;
  /// Lag as Redis reports it, else derived or counted (`lag_estimated`);
  /// counting stops at `count_bound` entries.
  int64_t lag = -1;
  bool lag_estimated = false;
  int64_t oldest_undelivered_ms = 0;
  std::optional<oldest_pending> oldest;
  std::vector<consumer_info> consumers;
};

struct stream_status {
  std::string name;
  /// Redis Cluster: the master holding the stream ("host:port"); else empty.
  std::string shard;
  stream_info info;
  std::string dead_stream;
  int64_t dead_letters = 0;
  std::vector<group_status> groups;
};

struct status_report {
  std::vector<stream_status> streams;
  /// SCAN found more streams than it lists (it stops at `scan_bound`).
  bool truncated = false;
};

constexpr size_t scan_bound = 1000;
constexpr uint64_t count_bound = 1000;

using redis_ask = std::function<caf::expected<redis_reply>(redis_command)>;

/// Reads every figure for `streams` (none: every stream SCAN TYPE stream
/// finds, up to `scan_bound`, minus their dead-letter streams), `group`
/// only if given. `dead_stream` overrides "<stream>:dead" ("{<stream>}:dead"
/// in a cluster). In a cluster every master is scanned and each stream
/// names its shard.
caf::expected<status_report> collect_status(const redis_ask& ask,
                                            const std::vector<std::string>& streams,
                                            const std::string& group,
                                            const std::string& dead_stream, bool cluster);

/// The stable `--json` form (names binary-safe: see put_bytes).
nlohmann::ordered_json status_json(const status_report& report);

/// The terminal table.
std::string status_table(const status_report& report);

} // namespace rill::cli
