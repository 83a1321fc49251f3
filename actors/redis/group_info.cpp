#include <rill/actors/redis/group_info.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/stream_entry.hpp>

namespace rill {

namespace {

caf::error malformed(const char* what) {
  return make_error(sec::unexpected_reply, std::string{"malformed "} + what + " reply");
}

/// Calls `fn(key, value)` for each pair of a flat key/value array.
template <class F>
bool each_field(const redis_reply& map, F fn) {
  if (!map.is_array() || map.elements.size() % 2 != 0)
    return false;
  for (size_t i = 0; i < map.elements.size(); i += 2)
    fn(map.elements[i].str, map.elements[i + 1]);
  return true;
}

int64_t integer_or(const redis_reply& x, int64_t fallback) {
  return x.type == redis_reply::kind::integer ? x.integer : fallback;
}

std::string first_id_of(const redis_reply& entry) {
  if (entry.is_array() && !entry.elements.empty())
    return entry.elements[0].str;
  return {};
}

} // namespace

redis_command xinfo_stream(const std::string& stream) {
  return make_command({"XINFO", "STREAM", stream});
}

redis_command xinfo_groups(const std::string& stream) {
  return make_command({"XINFO", "GROUPS", stream});
}

redis_command xinfo_consumers(const std::string& stream, const std::string& group) {
  return make_command({"XINFO", "CONSUMERS", stream, group});
}

redis_command xpending_oldest(const std::string& stream, const std::string& group) {
  return make_command({"XPENDING", stream, group, "-", "+", "1"});
}

redis_command xrange_after(const std::string& stream, const std::string& after, uint64_t count) {
  return make_command({"XRANGE", stream, "(" + after, "+", "COUNT", std::to_string(count)});
}

caf::expected<stream_info> parse_stream_info(const redis_reply& reply) {
  if (reply.is_error())
    return make_error(sec::reply_error, reply.str);
  stream_info s;
  auto ok = each_field(reply, [&](const std::string& key, const redis_reply& v) {
    if (key == "length")
      s.length = integer_or(v, 0);
    else if (key == "first-entry")
      s.first_id = first_id_of(v);
    else if (key == "last-entry")
      s.last_id = first_id_of(v);
    else if (key == "last-generated-id")
      s.last_generated_id = v.str;
    else if (key == "entries-added")
      s.entries_added = integer_or(v, -1);
    else if (key == "max-deleted-entry-id")
      s.max_deleted_id = v.str;
    else if (key == "groups")
      s.groups = integer_or(v, 0);
  });
  if (!ok)
    return malformed("XINFO STREAM");
  return s;
}

caf::expected<std::vector<group_info>> parse_groups(const redis_reply& reply) {
  if (reply.is_error())
    return make_error(sec::reply_error, reply.str);
  if (!reply.is_array())
    return malformed("XINFO GROUPS");
  std::vector<group_info> out;
  for (const auto& row : reply.elements) {
    group_info g;
    auto ok = each_field(row, [&](const std::string& key, const redis_reply& v) {
      if (key == "name")
        g.name = v.str;
      else if (key == "consumers")
        g.consumers = integer_or(v, 0);
      else if (key == "pending")
        g.pending = integer_or(v, 0);
      else if (key == "last-delivered-id")
        g.last_delivered_id = v.str;
      else if (key == "entries-read")
        g.entries_read = integer_or(v, -1);
      else if (key == "lag")
        g.lag = integer_or(v, -1);
    });
    if (!ok)
      return malformed("XINFO GROUPS");
    out.push_back(std::move(g));
  }
  return out;
}

caf::expected<std::vector<consumer_info>> parse_consumers(const redis_reply& reply) {
  if (reply.is_error())
    return make_error(sec::reply_error, reply.str);
  if (!reply.is_array())
    return malformed("XINFO CONSUMERS");
  std::vector<consumer_info> out;
  for (const auto& row : reply.elements) {
    consumer_info c;
    auto ok = each_field(row, [&](const std::string& key, const redis_reply& v) {
      if (key == "name")
        c.name = v.str;
      else if (key == "pending")
        c.pending = integer_or(v, 0);
      else if (key == "idle")
        c.idle_ms = integer_or(v, 0);
    });
    if (!ok)
      return malformed("XINFO CONSUMERS");
    out.push_back(std::move(c));
  }
  return out;
}

caf::expected<std::optional<oldest_pending>> parse_oldest_pending(const redis_reply& reply) {
  if (reply.is_error())
    return make_error(sec::reply_error, reply.str);
  if (!reply.is_array())
    return malformed("XPENDING");
  if (reply.elements.empty())
    return std::optional<oldest_pending>{};
  const auto& row = reply.elements[0];
  if (!row.is_array() || row.elements.size() < 3)
    return malformed("XPENDING");
  return std::optional<oldest_pending>{
    oldest_pending{row.elements[0].str, row.elements[1].str, integer_or(row.elements[2], 0)}};
}

caf::expected<std::vector<std::string>> parse_range_ids(const redis_reply& reply) {
  if (reply.is_error())
    return make_error(sec::reply_error, reply.str);
  if (!reply.is_array())
    return malformed("XRANGE");
  std::vector<std::string> ids;
  ids.reserve(reply.elements.size());
  for (const auto& e : reply.elements)
    ids.push_back(first_id_of(e));
  return ids;
}

std::optional<int64_t> derived_lag(const stream_info& s, const group_info& g) {
  if (s.length == 0 || s.last_id.empty())
    return 0;
  if (!g.last_delivered_id.empty() && compare_ids(g.last_delivered_id, s.last_id) >= 0)
    return 0;
  if (g.last_delivered_id.empty() || compare_ids(g.last_delivered_id, s.first_id) < 0)
    return s.length;
  return std::nullopt;
}

} // namespace rill
