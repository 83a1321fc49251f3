#pragma once

// What XINFO STREAM / XINFO GROUPS / XINFO CONSUMERS and the XPENDING
// summary say, parsed from their RESP2 replies (flat key/value arrays). The
// group probe (metrics, readiness) and `rill status` read the same figures.

#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rill {

struct stream_info {
  int64_t length = 0;
  std::string first_id; ///< empty: no entries
  std::string last_id;
  std::string last_generated_id;
  /// The largest ID ever deleted (XDEL, trimming); "0-0" if none.
  std::string max_deleted_id = "0-0";
  int64_t entries_added = -1; ///< -1: not reported
  int64_t groups = 0;
};

struct group_info {
  std::string name;
  int64_t consumers = 0;
  int64_t pending = 0;
  std::string last_delivered_id;
  int64_t entries_read = -1; ///< -1: nil
  int64_t lag = -1;          ///< -1: nil (Redis cannot tell)
};

struct consumer_info {
  std::string name;
  int64_t pending = 0;
  int64_t idle_ms = 0;
};

/// The oldest pending entry of a group (`XPENDING s g - + 1`).
struct oldest_pending {
  std::string id;
  std::string consumer;
  int64_t idle_ms = 0;
};

redis_command xinfo_stream(const std::string& stream);
redis_command xinfo_groups(const std::string& stream);
redis_command xinfo_consumers(const std::string& stream, const std::string& group);
/// `XPENDING stream group - + 1`: the oldest pending entry, if any.
redis_command xpending_oldest(const std::string& stream, const std::string& group);
/// `XRANGE stream (after + COUNT count`: entries after the last delivered.
redis_command xrange_after(const std::string& stream, const std::string& after, uint64_t count);

caf::expected<stream_info> parse_stream_info(const redis_reply& reply);
caf::expected<std::vector<group_info>> parse_groups(const redis_reply& reply);
caf::expected<std::vector<consumer_info>> parse_consumers(const redis_reply& reply);
caf::expected<std::optional<oldest_pending>> parse_oldest_pending(const redis_reply& reply);

/// The IDs of an XRANGE reply, in order.
caf::expected<std::vector<std::string>> parse_range_ids(const redis_reply& reply);

/// The group's lag when Redis reports nil: 0 if it has read up to the last
/// ID, the stream's length if it has read nothing that is still there, else
/// nullopt (count the entries after last-delivered-id instead).
std::optional<int64_t> derived_lag(const stream_info& s, const group_info& g);

} // namespace rill
