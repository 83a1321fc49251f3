#include "status_report.hpp"

#include "json_line.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/redis/cluster_map.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/runtime/redis_topology.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

namespace rill::cli {

namespace {

/// Redis's clock in ms (TIME): ages are measured against the server that
/// stamped the IDs, not this machine.
caf::expected<int64_t> server_ms(const redis_ask& ask) {
  auto t = ask(make_command({"TIME"}));
  if (!t)
    return t.error();
  if (!t->is_array() || t->elements.size() != 2)
    return make_error(sec::unexpected_reply, "malformed TIME reply");
  return std::stoll(t->elements[0].str) * 1000 + std::stoll(t->elements[1].str) / 1000;
}

/// SCAN TYPE stream on one server, or on the master `route_key` lands on.
caf::error scan_node(const redis_ask& ask, const std::string& route_key,
                     std::set<std::string>& found) {
  std::string cursor = "0";
  do {
    auto cmd = make_command({"SCAN", cursor, "TYPE", "stream", "COUNT", "1000"});
    cmd.route_key = route_key;
    auto r = ask(std::move(cmd));
    if (!r)
      return r.error();
    if (!r->is_array() || r->elements.size() != 2 || !r->elements[1].is_array())
      return make_error(sec::unexpected_reply, "malformed SCAN reply");
    cursor = r->elements[0].str;
    for (auto& key : r->elements[1].elements)
      found.insert(key.str);
    if (found.size() > scan_bound)
      return caf::none;
  } while (cursor != "0");
  return caf::none;
}

/// A key in one of `ranges`' slots: SCAN only sees its own node's keys, so
/// each master is asked through a key it holds.
std::string key_in(const slot_range& range) {
  for (uint32_t i = 0;; ++i)
    if (auto k = std::to_string(i); key_slot(k) >= range.first && key_slot(k) <= range.last)
      return k;
}

caf::expected<std::vector<std::string>> scan_streams(const redis_ask& ask,
                                                     const std::vector<slot_range>& shards,
                                                     bool cluster, bool& truncated) {
  std::set<std::string> found;
  std::vector<std::string> route_keys{std::string{}};
  if (cluster) {
    route_keys.clear();
    std::set<std::string> masters;
    for (const auto& r : shards)
      if (masters.insert(endpoint_text(r.master)).second)
        route_keys.push_back(key_in(r));
  }
  for (const auto& key : route_keys) {
    if (auto err = scan_node(ask, key, found))
      return err;
    if (found.size() > scan_bound) {
      truncated = true;
      break;
    }
  }
  std::set<std::string> dead; // a dead-letter stream is listed with its stream
  for (const auto& key : found)
    dead.insert(default_dead_letter_stream(key, cluster));
  std::vector<std::string> out;
  for (const auto& key : found)
    if (dead.count(key) == 0)
      out.push_back(key);
  if (out.size() > scan_bound)
    out.resize(scan_bound);
  return out;
}

/// The master holding `stream`, as "host:port".
std::string shard_of(const std::vector<slot_range>& shards, const std::string& stream) {
  auto slot = key_slot(stream);
  for (const auto& r : shards)
    if (slot >= r.first && slot <= r.last)
      return endpoint_text(r.master);
  return "?";
}

caf::expected<group_status> collect_group(const redis_ask& ask, const stream_status& s,
                                          const group_info& g, int64_t now_ms) {
  group_status out;
  out.info = g;
  out.lag = g.lag;
  if (out.lag < 0) {
    out.lag_estimated = true;
    if (auto derived = derived_lag(s.info, g))
      out.lag = *derived;
  }
  if (auto r = ask(xpending_oldest(s.name, g.name)); !r)
    return r.error();
  else if (auto oldest = parse_oldest_pending(*r); !oldest)
    return oldest.error();
  else
    out.oldest = *oldest;
  if (auto r = ask(xinfo_consumers(s.name, g.name)); !r)
    return r.error();
  else if (auto consumers = parse_consumers(*r); !consumers)
    return consumers.error();
  else
    out.consumers = std::move(*consumers);
  if (out.lag != 0) {
    auto from = g.last_delivered_id.empty() ? std::string{"0-0"} : g.last_delivered_id;
    auto r = ask(xrange_after(s.name, from, out.lag < 0 ? count_bound : 1));
    if (!r)
      return r.error();
    auto ids = parse_range_ids(*r);
    if (!ids)
      return ids.error();
    if (out.lag < 0)
      out.lag = static_cast<int64_t>(ids->size());
    if (!ids->empty())
      out.oldest_undelivered_ms = std::max<int64_t>(0, now_ms - id_time_ms(ids->front()));
  }
  return out;
}

std::string seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
  return buf;
}

/// A name for the terminal: valid UTF-8, no control characters.
std::string printable(const std::string& name) {
  auto text = utf8_or_replaced(name);
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return text;
}

} // namespace

caf::expected<status_report> collect_status(const redis_ask& ask,
                                            const std::vector<std::string>& streams,
                                            const std::string& group,
                                            const std::string& dead_stream, bool cluster) {
  status_report report;
  auto now = server_ms(ask);
  if (!now)
    return now.error();
  std::vector<slot_range> shards;
  if (cluster) {
    auto slots = ask(make_command({"CLUSTER", "SLOTS"}));
    if (!slots)
      return slots.error();
    auto parsed = parse_cluster_slots(*slots, "?");
    if (!parsed)
      return parsed.error();
    shards = std::move(*parsed);
  }
  auto names = streams;
  if (names.empty()) {
    auto found = scan_streams(ask, shards, cluster, report.truncated);
    if (!found)
      return found.error();
    names = std::move(*found);
  }
  for (const auto& name : names) {
    stream_status s;
    s.name = name;
    if (cluster)
      s.shard = shard_of(shards, name);
    s.dead_stream = dead_stream.empty() ? default_dead_letter_stream(name, cluster) : dead_stream;
    auto info = ask(xinfo_stream(name));
    if (!info)
      return make_error(sec::reply_error,
                        "stream '" + printable(name) + "': " + describe(info.error()));
    auto parsed = parse_stream_info(*info);
    if (!parsed)
      return parsed.error();
    s.info = std::move(*parsed);
    if (auto dead = ask(make_command({"XLEN", s.dead_stream})); dead && !dead->is_error())
      s.dead_letters = dead->integer;
    auto groups = ask(xinfo_groups(name));
    if (!groups)
      return groups.error();
    auto list = parse_groups(*groups);
    if (!list)
      return list.error();
    for (const auto& g : *list) {
      if (!group.empty() && g.name != group)
        continue;
      auto gs = collect_group(ask, s, g, *now);
      if (!gs)
        return gs.error();
      s.groups.push_back(std::move(*gs));
    }
    report.streams.push_back(std::move(s));
  }
  return report;
}

nlohmann::ordered_json status_json(const status_report& report) {
  nlohmann::ordered_json out;
  auto streams = nlohmann::ordered_json::array();
  for (const auto& s : report.streams) {
    nlohmann::ordered_json js;
    put_bytes(js, "stream", s.name);
    if (!s.shard.empty())
      js["shard"] = s.shard;
    js["length"] = s.info.length;
    js["first_id"] = s.info.first_id;
    js["last_id"] = s.info.last_id;
    put_bytes(js, "dead_letter_stream", s.dead_stream);
    js["dead_letters"] = s.dead_letters;
    auto groups = nlohmann::ordered_json::array();
    for (const auto& g : s.groups) {
      nlohmann::ordered_json jg;
      put_bytes(jg, "group", g.info.name);
      jg["lag"] = g.lag;
      jg["lag_estimated"] = g.lag_estimated;
      jg["pending"] = g.info.pending;
      jg["entries_read"] = g.info.entries_read;
      jg["last_delivered_id"] = g.info.last_delivered_id;
      jg["oldest_undelivered_age_ms"] = g.oldest_undelivered_ms;
      jg["oldest_pending_idle_ms"] = g.oldest ? g.oldest->idle_ms : 0;
      if (g.oldest)
        put_bytes(jg, "oldest_pending_consumer", g.oldest->consumer);
      else
        jg["oldest_pending_consumer"] = nullptr;
      auto consumers = nlohmann::ordered_json::array();
      for (const auto& c : g.consumers) {
        nlohmann::ordered_json jc;
        put_bytes(jc, "consumer", c.name);
        jc["pending"] = c.pending;
        jc["idle_ms"] = c.idle_ms;
        consumers.push_back(std::move(jc));
      }
      jg["consumers"] = std::move(consumers);
      groups.push_back(std::move(jg));
    }
    js["groups"] = std::move(groups);
    streams.push_back(std::move(js));
  }
  out["streams"] = std::move(streams);
  out["truncated"] = report.truncated;
  return out;
}

std::string status_table(const status_report& report) {
  std::ostringstream out;
  char line[512];
  if (report.streams.empty())
    out << "no streams found\n";
  for (const auto& s : report.streams) {
    std::snprintf(line, sizeof line, "%-24s length %-10lld dead letters %-8lld %s .. %s%s%s\n",
                  printable(s.name).c_str(), static_cast<long long>(s.info.length),
                  static_cast<long long>(s.dead_letters),
                  s.info.first_id.empty() ? "-" : s.info.first_id.c_str(),
                  s.info.last_id.empty() ? "-" : s.info.last_id.c_str(),
                  s.shard.empty() ? "" : "  on ", s.shard.c_str());
    out << line;
    if (s.groups.empty()) {
      out << "  (no groups)\n";
      continue;
    }
    std::snprintf(line, sizeof line, "  %-20s %10s %10s %12s %12s %22s\n", "GROUP", "LAG",
                  "PENDING", "READ", "UNDELIVERED", "OLDEST PENDING");
    out << line;
    for (const auto& g : s.groups) {
      auto lag
        = g.lag < 0 ? std::string{"?"} : std::to_string(g.lag) + (g.lag_estimated ? "~" : "");
      auto oldest = g.oldest
                      ? seconds(g.oldest->idle_ms) + " (" + printable(g.oldest->consumer) + ")"
                      : std::string{"-"};
      std::snprintf(line, sizeof line, "  %-20s %10s %10lld %12s %12s %22s\n",
                    printable(g.info.name).c_str(), lag.c_str(),
                    static_cast<long long>(g.info.pending),
                    g.info.entries_read < 0 ? "?" : std::to_string(g.info.entries_read).c_str(),
                    g.oldest_undelivered_ms > 0 ? seconds(g.oldest_undelivered_ms).c_str() : "-",
                    oldest.c_str());
      out << line;
      for (const auto& c : g.consumers) {
        std::snprintf(line, sizeof line, "    %-28s pending %-10lld idle %s\n",
                      printable(c.name).c_str(), static_cast<long long>(c.pending),
                      seconds(c.idle_ms).c_str());
        out << line;
      }
    }
  }
  if (report.truncated)
    out << "(more than " << scan_bound << " streams: only the first are listed; use --stream)\n";
  return out.str();
}

} // namespace rill::cli
