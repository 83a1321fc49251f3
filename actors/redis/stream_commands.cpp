#include <rill/actors/redis/stream_commands.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>

#include <chrono>

namespace rill {

redis_command xgroup_create(const std::string& stream, const std::string& group,
                            const std::string& start_id) {
  return make_command({"XGROUP", "CREATE", stream, group, start_id, "MKSTREAM"});
}

redis_command xread(const std::string& stream, const std::string& after, uint64_t count,
                    caf::timespan block) {
  redis_command cmd;
  cmd.argv.reserve(8);
  cmd.arg("XREAD").arg("COUNT").arg(std::to_string(count));
  cmd.arg("BLOCK").arg(
    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(block).count()));
  cmd.blocks_for = block;
  cmd.arg("STREAMS").arg(stream).arg(after);
  return cmd;
}

redis_command xrevrange_last(const std::string& stream) {
  return make_command({"XREVRANGE", stream, "+", "-", "COUNT", "1"});
}

redis_command xreadgroup(const std::string& group, const std::string& consumer,
                         const std::string& stream, uint64_t count, const std::string& id,
                         caf::timespan block) {
  redis_command cmd;
  cmd.argv.reserve(12);
  cmd.arg("XREADGROUP").arg("GROUP").arg(group).arg(consumer);
  cmd.arg("COUNT").arg(std::to_string(count));
  if (block.count() > 0) {
    cmd.arg("BLOCK").arg(
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(block).count()));
    cmd.blocks_for = block;
  }
  cmd.arg("STREAMS").arg(stream).arg(id);
  return cmd;
}

redis_command xack(const std::string& stream, const std::string& group,
                   const std::vector<std::string>& ids) {
  redis_command cmd;
  cmd.argv.reserve(3 + ids.size());
  cmd.arg("XACK").arg(stream).arg(group);
  cmd.argv.insert(cmd.argv.end(), ids.begin(), ids.end());
  return cmd;
}

redis_command client_unblock(int64_t client_id, const std::string& stream) {
  auto cmd = make_command({"CLIENT", "UNBLOCK", std::to_string(client_id)});
  cmd.route_key = stream;
  return cmd;
}

namespace {

std::string millis(caf::timespan x) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(x).count());
}

caf::error bad(const char* what, const redis_reply& reply) {
  return make_error(sec::unexpected_reply, std::string{what} + ": " + to_string(reply));
}

constexpr const char* dead_letter_script = R"lua(
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
)lua";

constexpr const char* remove_idle_script = R"lua(
local removed = {}
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] ~= ARGV[2] and fields['pending'] == 0
     and fields['idle'] >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    table.insert(removed, fields['name'])
  end
end
return removed
)lua";

// The value is "<token> <client id> <run id>": the token tells the owner
// (one per reader) from others, the client id of its reading connection lets
// another process check that the owner is still connected (CLIENT LIST ID).
// Client ids restart with the server and differ on a promoted replica, so the
// server's run_id goes with them: a holder from another server run is gone
// (its id may belong to anyone now, even to the claimer itself).
constexpr const char* owner_claim_script = R"lua(
-- rill:owner KEYS[1] name lease; ARGV: token, value, ttl ms, takeover value
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or '-'
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' and cur ~= ARGV[4] then
  local held = string.match(cur, '^%S+ %S+ (%S+)$')
  if held == nil or held == run then
    return cur
  end
end
redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. run, 'PX', ARGV[3])
return 1
)lua";

constexpr const char* owner_release_script = R"lua(
-- rill:release KEYS[1] name lease; ARGV[1] token
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

} // namespace

std::string name_lease_key(const std::string& stream, const std::string& group,
                           const std::string& consumer) {
  return same_slot_key("rill:owner:", stream, ":" + group + ":" + consumer);
}

redis_command claim_name(const std::string& key, const std::string& token, int64_t client_id,
                         caf::timespan ttl, const std::string& takeover) {
  return make_command({"EVAL", owner_claim_script, "1", key, token,
                       token + " " + std::to_string(client_id), millis(ttl), takeover});
}

redis_command release_name(const std::string& key, const std::string& token) {
  return make_command({"EVAL", owner_release_script, "1", key, token});
}

redis_command xautoclaim(const std::string& stream, const std::string& group,
                         const std::string& consumer, caf::timespan min_idle,
                         const std::string& cursor, uint64_t count) {
  return make_command({"XAUTOCLAIM", stream, group, consumer, millis(min_idle), cursor, "COUNT",
                       std::to_string(count)});
}

caf::expected<claim_batch> parse_autoclaim_reply(redis_reply&& reply) {
  // [next-cursor, [[id, fields|nil], ...], [deleted-id, ...]]
  if (!reply.is_array() || reply.elements.size() < 2 || !reply.elements[0].is_string())
    return bad("XAUTOCLAIM reply", reply);
  claim_batch result;
  result.next_cursor = std::move(reply.elements[0].str);
  auto batch = parse_entry_list(std::move(reply.elements[1]));
  if (!batch)
    return batch.error();
  result.entries = std::move(batch->entries);
  result.deleted_ids = std::move(batch->deleted_ids);
  if (reply.elements.size() > 2 && reply.elements[2].is_array())
    for (auto& id : reply.elements[2].elements)
      result.deleted_ids.emplace_back(std::move(id.str));
  return result;
}

caf::expected<std::vector<stream_entry>> parse_claimed_entries(redis_reply&& reply) {
  auto batch = parse_entry_list(std::move(reply));
  if (!batch)
    return batch.error();
  return std::move(batch->entries); // XCLAIM skips deleted entries
}

redis_command xclaim(const std::string& stream, const std::string& group,
                     const std::string& consumer, const std::vector<std::string>& ids,
                     bool just_id) {
  auto cmd = make_command({"XCLAIM", stream, group, consumer, "0"});
  cmd.argv.insert(cmd.argv.end(), ids.begin(), ids.end());
  if (just_id)
    cmd.arg("JUSTID");
  return cmd;
}

redis_command xpending_range(const std::string& stream, const std::string& group,
                             const std::string& first, const std::string& last, uint64_t count,
                             const std::string& consumer) {
  return make_command({"XPENDING", stream, group, first, last, std::to_string(count), consumer});
}

caf::expected<std::vector<pending_row>> parse_pending_rows(const redis_reply& reply) {
  // [[id, consumer, idle-ms, deliveries], ...]
  if (!reply.is_array())
    return bad("XPENDING reply", reply);
  std::vector<pending_row> result;
  result.reserve(reply.elements.size());
  for (const auto& row : reply.elements) {
    if (!row.is_array() || row.elements.size() < 4 || !row.elements[0].is_string()
        || row.elements[2].type != redis_reply::kind::integer
        || row.elements[3].type != redis_reply::kind::integer)
      return bad("XPENDING row", row);
    result.push_back(pending_row{row.elements[0].str, row.elements[1].str, row.elements[2].integer,
                                 static_cast<uint32_t>(row.elements[3].integer)});
  }
  return result;
}

caf::expected<std::unordered_map<std::string, uint32_t>>
parse_delivery_counts(const redis_reply& reply) {
  auto rows = parse_pending_rows(reply);
  if (!rows)
    return rows.error();
  std::unordered_map<std::string, uint32_t> result;
  for (auto& row : *rows)
    result[std::move(row.id)] = row.deliveries;
  return result;
}

std::string pack_fields(const std::vector<std::string>& fields) {
  std::string out;
  size_t total = 0;
  for (const auto& f : fields)
    total += f.size() + 24;
  out.reserve(total);
  for (const auto& f : fields) {
    out += std::to_string(f.size());
    out += ':';
    out += f;
    out += ',';
  }
  return out;
}

caf::expected<std::vector<std::string>> unpack_fields(std::string_view packed) {
  std::vector<std::string> out;
  while (!packed.empty()) {
    auto colon = packed.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 20)
      return make_error(sec::invalid_argument,
                        "packed fields: no length at byte " + std::to_string(out.size()));
    uint64_t len = 0;
    for (auto c : packed.substr(0, colon)) {
      if (c < '0' || c > '9')
        return make_error(sec::invalid_argument, "packed fields: bad length");
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    packed.remove_prefix(colon + 1);
    if (len + 1 > packed.size() || packed[len] != ',')
      return make_error(sec::invalid_argument, "packed fields: truncated");
    out.emplace_back(packed.substr(0, len));
    packed.remove_prefix(len + 1);
  }
  if (out.size() % 2 != 0)
    return make_error(sec::invalid_argument, "packed fields: odd number of names and values");
  return out;
}

redis_command dead_letter(const std::string& stream, const std::string& group,
                          const std::string& dead_stream, const stream_entry& entry,
                          const std::string& consumer, const std::string& reason) {
  auto cmd = make_command({"EVAL", dead_letter_script, "2", stream, dead_stream, group, entry.id});
  // A script passes at most ~8,000 arguments to one redis.call (Lua's C
  // stack: 3,996 fields worked, 4,100 failed with "too many results to
  // unpack"); a larger entry travels as one packed value instead.
  bool packed = entry.fields.size() > max_unpacked_dead_fields;
  cmd.argv.reserve(cmd.argv.size() + (packed ? 2 : entry.fields.size()) + 10);
  if (packed)
    cmd.arg(dead_packed_field).arg(pack_fields(entry.fields));
  else
    cmd.argv.insert(cmd.argv.end(), entry.fields.begin(), entry.fields.end());
  for (auto& [name, value] : {std::pair<const char*, std::string>{"dead_reason", reason},
                              {"dead_id", entry.id},
                              {"dead_stream", stream},
                              {"dead_consumer", consumer},
                              {"dead_deliveries", std::to_string(entry.deliveries)}}) {
    cmd.arg(name).arg(value);
  }
  return cmd;
}

redis_command remove_idle_consumers(const std::string& stream, const std::string& group,
                                    const std::string& self, caf::timespan idle) {
  return make_command({"EVAL", remove_idle_script, "1", stream, group, self, millis(idle)});
}

} // namespace rill
