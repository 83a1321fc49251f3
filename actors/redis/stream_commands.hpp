#pragma once

// Every Redis stream command rill sends, with the parser of its reply, in one
// place: reading (XGROUP CREATE, XREADGROUP), acking, recovery (claims,
// leases, dead letters, idle consumers) and the CLIENT commands around them.
// Pure functions: the actors send them, the unit tests check them. The
// producer's XADD lives with the producer (it is built per entry, from the
// caller's fields); connection setup commands with the connection.

#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/expected.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rill {

// -- reading and acking -------------------------------------------------------------

/// `XGROUP CREATE stream group start_id MKSTREAM` (BUSYGROUP if it exists).
redis_command xgroup_create(const std::string& stream, const std::string& group,
                            const std::string& start_id);

/// `XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS stream id`.
/// `block` 0 sends no BLOCK (a read of the own pending list, `id` != ">",
/// ignores it anyway); otherwise the command carries it as `blocks_for` so the
/// connection adds it to the deadline.
redis_command xreadgroup(const std::string& group, const std::string& consumer,
                         const std::string& stream, uint64_t count, const std::string& id,
                         caf::timespan block);

/// `XREAD COUNT count BLOCK ms STREAMS stream after`: entries after `after`
/// (a concrete ID: a tailer never sends `$`, see actors/tailer.hpp).
redis_command xread(const std::string& stream, const std::string& after, uint64_t count,
                    caf::timespan block);

/// `XREVRANGE stream + - COUNT 1`: the last entry, to snapshot a tail.
redis_command xrevrange_last(const std::string& stream);

/// `XACK stream group ids...`.
redis_command xack(const std::string& stream, const std::string& group,
                   const std::vector<std::string>& ids);

/// `CLIENT UNBLOCK client_id`: ends a blocked read of `stream` early (nil
/// reply); in a cluster it goes to the stream's node, where that client is.
redis_command client_unblock(int64_t client_id, const std::string& stream);

// -- recovery -----------------------------------------------------------------------

/// `XAUTOCLAIM stream group consumer min_idle_ms cursor COUNT count`.
redis_command xautoclaim(const std::string& stream, const std::string& group,
                         const std::string& consumer, caf::timespan min_idle,
                         const std::string& cursor, uint64_t count);

/// What XAUTOCLAIM returned (Redis 7 shape).
struct claim_batch {
  /// Where the next call continues; "0-0" when the scan has wrapped around.
  std::string next_cursor;
  std::vector<stream_entry> entries;
  /// IDs that were pending but whose entry no longer exists.
  std::vector<std::string> deleted_ids;
};

caf::expected<claim_batch> parse_autoclaim_reply(redis_reply&& reply);

/// `XCLAIM stream group consumer 0 ids...` (increments the delivery counts
/// and returns the entries) or, with `just_id`, only resets their idle time
/// (a lease renewal; the counts stay).
redis_command xclaim(const std::string& stream, const std::string& group,
                     const std::string& consumer, const std::vector<std::string>& ids,
                     bool just_id);

/// Parses the reply of an XCLAIM without JUSTID: the entries claimed (Redis
/// leaves out entries that were deleted or were not pending).
caf::expected<std::vector<stream_entry>> parse_claimed_entries(redis_reply&& reply);

/// `XPENDING stream group first last count consumer`: the extended form that
/// lists each pending entry with its delivery count.
redis_command xpending_range(const std::string& stream, const std::string& group,
                             const std::string& first, const std::string& last, uint64_t count,
                             const std::string& consumer);

/// One row of an extended XPENDING reply.
struct pending_row {
  std::string id;
  std::string consumer;
  int64_t idle_ms = 0;
  uint32_t deliveries = 0;
};

/// Parses an extended XPENDING reply.
caf::expected<std::vector<pending_row>> parse_pending_rows(const redis_reply& reply);

/// Maps ID -> delivery count from an extended XPENDING reply.
caf::expected<std::unordered_map<std::string, uint32_t>>
parse_delivery_counts(const redis_reply& reply);

/// Entries with more field names and values than this are dead-lettered with
/// their fields packed into the one field `dead_packed_field`.
constexpr size_t max_unpacked_dead_fields = 2000;

/// The field of a dead letter that holds the original fields, packed (see
/// `pack_fields`), for entries too large to pass field by field.
constexpr const char* dead_packed_field = "dead_packed_fields";

/// Encodes names and values binary-safe as netstrings: `<len>:<bytes>,` each.
std::string pack_fields(const std::vector<std::string>& fields);

/// Decodes `pack_fields`; an error if `packed` is not such a list of pairs.
caf::expected<std::vector<std::string>> unpack_fields(std::string_view packed);

/// Writes `entry` to `dead_stream` (original fields - packed into
/// `dead_packed_field` when there are more than `max_unpacked_dead_fields` -
/// plus dead_reason, dead_id, dead_stream, dead_consumer, dead_deliveries)
/// and XACKs it, in one Lua script: unlike MULTI/EXEC, a script stops at the
/// first failing command, so the XACK never runs unless the dead letter was
/// written.
redis_command dead_letter(const std::string& stream, const std::string& group,
                          const std::string& dead_stream, const stream_entry& entry,
                          const std::string& consumer, const std::string& reason);

/// The key that leases a consumer name to one process:
/// `rill:owner:{<stream>}:<group>:<consumer>`, in the stream's cluster slot
/// (`same_slot_key`: a stream with its own hash tag is not wrapped again).
std::string name_lease_key(const std::string& stream, const std::string& group,
                           const std::string& consumer);

/// Takes or renews the name lease `key` for the reader `token` whose reading
/// connection is `client_id`, for `ttl`, in one script. Replies 1 if this
/// reader holds it now, else the holder's value ("<token> <client id> <run
/// id>"; a holder from another run of the server is replaced). With
/// `takeover` set to such a value (an owner found disconnected), it takes the
/// lease from exactly that owner.
redis_command claim_name(const std::string& key, const std::string& token, int64_t client_id,
                         caf::timespan ttl, const std::string& takeover = {});

/// Deletes the name lease if `token` holds it (a graceful stop).
redis_command release_name(const std::string& key, const std::string& token);

/// Removes consumers of the group (other than `self`) that have nothing
/// pending and were idle at least `idle`, in one Lua script so no entry can be
/// read by a consumer between the check and the removal. Returns the names.
redis_command remove_idle_consumers(const std::string& stream, const std::string& group,
                                    const std::string& self, caf::timespan idle);

} // namespace rill
