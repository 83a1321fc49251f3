#include <rill/runtime/node_roles.hpp>

#include <rill/actors/error.hpp>
#include <rill/runtime/config.hpp>

#include <sstream>

namespace rill {

namespace {

caf::error bad(const std::string& where, const std::string& what) {
  return make_error(sec::invalid_config, where + ": " + what);
}

// "key=value key=value ..." -> pairs, in order.
caf::expected<std::vector<std::pair<std::string, std::string>>>
split_entry(const std::string& where, const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in{text};
  std::string token;
  while (in >> token) {
    auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == token.size())
      return bad(where, "expected key=value, got '" + token + "'");
    out.emplace_back(token.substr(0, eq), token.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto end = comma == std::string::npos ? text.size() : comma;
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

caf::expected<reader_role> parse_reader(const std::string& where, const std::string& text) {
  auto pairs = split_entry(where, text);
  if (!pairs)
    return pairs.error();
  reader_role r;
  for (auto& [key, value] : *pairs) {
    if (key == "stream")
      r.stream = value;
    else if (key == "group")
      r.group = value;
    else if (key == "consumer")
      r.consumer = value;
    else
      return bad(where, "unknown key '" + key + "' (stream, group, consumer)");
  }
  if (r.stream.empty() || r.group.empty())
    return bad(where, "needs stream= and group=");
  return r;
}

caf::expected<pool_role> parse_pool(const std::string& where, const std::string& text,
                                    uint32_t default_workers) {
  auto pairs = split_entry(where, text);
  if (!pairs)
    return pairs.error();
  pool_role p;
  p.workers = default_workers;
  for (auto& [key, value] : *pairs) {
    if (key == "stream") {
      p.stream = value;
    } else if (key == "group") {
      p.group = value;
    } else if (key == "workers") {
      char* end = nullptr;
      auto n = std::strtoul(value.c_str(), &end, 10);
      if (*end != '\0' || n == 0 || n > 100000)
        return bad(where, "workers must be 1..100000, got '" + value + "'");
      p.workers = static_cast<uint32_t>(n);
    } else if (key == "callbacks") {
      p.callbacks = split_names(value);
      for (const auto& name : p.callbacks)
        if (name.empty())
          return bad(where, "empty name in callbacks='" + value + "'");
    } else if (key == "join") {
      p.join = value;
    } else {
      return bad(where, "unknown key '" + key + "' (stream, group, workers, callbacks, join)");
    }
  }
  if (p.stream.empty() || p.group.empty())
    return bad(where, "needs stream= and group=");
  return p;
}

bool same_consumer(const reader_role& r, const pool_role& p) {
  return r.stream == p.stream && r.group == p.group;
}

} // namespace

const pool_role* node_roles::local_pool(const reader_role& r) const {
  for (const auto& p : pools)
    if (p.join.empty() && same_consumer(r, p))
      return &p;
  return nullptr;
}

caf::expected<node_roles> parse_node_roles(const config& cfg) {
  node_roles roles;
  roles.listen = cfg.listen;
  const auto& c = cfg.consumer;
  if (cfg.node_readers.empty() && cfg.node_workers.empty()) {
    // One role from the flags.
    if (c.stream.empty() || c.group.empty())
      return bad("node", "name the roles in node.readers / node.workers (--config FILE), or "
                         "give --stream and --group");
    if (!cfg.listen.empty()) {
      roles.readers.push_back({c.stream, c.group, c.consumer});
      if (!cfg.remote_workers_only)
        roles.pools.push_back({c.stream, c.group, c.max_in_flight, {}, {}});
    } else if (!cfg.join.empty()) {
      roles.pools.push_back({c.stream, c.group, c.max_in_flight, {}, cfg.join});
    } else {
      return bad("node", "give a role: --listen [HOST:]PORT (readers) or --join HOST:PORT "
                         "(workers), or node.readers / node.workers in --config FILE");
    }
    return roles;
  }
  for (size_t i = 0; i < cfg.node_readers.size(); ++i) {
    auto where = "node.readers[" + std::to_string(i) + "]";
    auto r = parse_reader(where, cfg.node_readers[i]);
    if (!r)
      return r.error();
    for (const auto& other : roles.readers)
      if (other.stream == r->stream && other.group == r->group)
        return bad(where, "a second reader for " + r->stream + "/" + r->group);
    roles.readers.push_back(std::move(*r));
  }
  for (size_t i = 0; i < cfg.node_workers.size(); ++i) {
    auto where = "node.workers[" + std::to_string(i) + "]";
    auto p = parse_pool(where, cfg.node_workers[i], c.max_in_flight);
    if (!p)
      return p.error();
    bool reader_here = false;
    for (const auto& r : roles.readers)
      reader_here = reader_here || same_consumer(r, *p);
    if (reader_here && !p->join.empty())
      return bad(where, p->stream + "/" + p->group
                          + " is read on this node: its pool is local, drop join=");
    if (!reader_here && p->join.empty())
      p->join = cfg.join;
    if (!reader_here && p->join.empty())
      return bad(where, "no reader for " + p->stream + "/" + p->group
                          + " on this node: give join=HOST:PORT or node.join");
    for (const auto& other : roles.pools)
      if (same_consumer(reader_role{other.stream, other.group, {}}, *p) && other.join == p->join)
        return bad(where, "a second pool for " + p->stream + "/" + p->group
                            + " (give it more workers instead)");
    roles.pools.push_back(std::move(*p));
  }
  if (roles.listen.empty())
    for (const auto& r : roles.readers)
      if (roles.local_pool(r) == nullptr)
        return bad("node", "the reader for " + r.stream + "/" + r.group
                             + " gets no workers: add a pool for it or node.listen");
  if (roles.readers.empty() && roles.pools.empty())
    return bad("node", "node.readers and node.workers name nothing to run");
  return roles;
}

} // namespace rill
