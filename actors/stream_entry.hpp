#pragma once

#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rill {

/// One stream entry as Redis returned it. Field names and values are
/// binary-safe byte strings, kept in the order Redis stores them.
struct stream_entry {
  /// The entry ID, e.g. "1700000000000-0".
  std::string id;
  /// Alternating field names and values: name0, value0, name1, value1, ...
  std::vector<std::string> fields;
  /// How often Redis has delivered this entry, this delivery included (1 for
  /// a first delivery; more after failures, restarts and claims).
  uint32_t deliveries = 1;

  /// Returns the value of the first field called `name`, or nullptr.
  const std::string* find(std::string_view name) const noexcept;

  /// Returns the number of (name, value) pairs.
  size_t size() const noexcept { return fields.size() / 2; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_entry& x) {
  return f(caf::meta::type_name("rill::stream_entry"), x.id, x.fields, x.deliveries);
}

/// What one XREADGROUP / XREAD call returned for one stream.
struct read_batch {
  /// Entries that can be delivered.
  std::vector<stream_entry> entries;
  /// IDs still in the pending list whose entry was deleted from the stream
  /// (Redis returns them with nil fields); they can never be delivered.
  std::vector<std::string> deleted_ids;
};

/// Parses an XREADGROUP/XREAD reply for a single stream, moving the strings out
/// of `reply`. A nil reply (BLOCK timed out) is an empty batch. Any other shape
/// is `sec::unexpected_reply`.
caf::expected<read_batch> parse_read_reply(redis_reply&& reply);

/// Parses a plain list of entries, `[[id, fields | nil], ...]`, as XRANGE,
/// XCLAIM and XAUTOCLAIM return it.
caf::expected<read_batch> parse_entry_list(redis_reply&& reply);

/// Compares two stream IDs ("ms-seq") numerically; returns <0, 0 or >0.
int compare_ids(std::string_view x, std::string_view y);

/// The milliseconds part of a stream ID ("<ms>-<seq>"); 0 if it has none.
int64_t id_time_ms(std::string_view id);

} // namespace rill
