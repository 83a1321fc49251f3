#include <rill/actors/redis/cluster_map.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>

#include <algorithm>
#include <cstdlib>

namespace rill {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// [host, port, id, ...] of one node in a CLUSTER SLOTS row.
std::optional<redis_endpoint> node_of(const redis_reply& node, const std::string& asked_host) {
  if (!node.is_array() || node.elements.size() < 2 || !node.elements[0].is_string()
      || node.elements[1].type != redis_reply::kind::integer)
    return std::nullopt;
  const auto& host = node.elements[0].str;
  auto port = node.elements[1].integer;
  if (host == "?" || port <= 0 || port > 65535)
    return std::nullopt;
  return redis_endpoint{host.empty() ? asked_host : host, static_cast<uint16_t>(port)};
}

} // namespace

caf::expected<std::vector<slot_range>> parse_cluster_slots(const redis_reply& reply,
                                                           const std::string& asked_host) {
  auto bad = [&] {
    return make_error(sec::unexpected_reply, "CLUSTER SLOTS: " + to_string(reply));
  };
  if (!reply.is_array())
    return bad();
  std::vector<slot_range> ranges;
  for (const auto& row : reply.elements) {
    if (!row.is_array() || row.elements.size() < 3
        || row.elements[0].type != redis_reply::kind::integer
        || row.elements[1].type != redis_reply::kind::integer)
      return bad();
    auto first = row.elements[0].integer;
    auto last = row.elements[1].integer;
    if (first < 0 || last < first || last >= cluster_slots)
      return bad();
    auto master = node_of(row.elements[2], asked_host);
    if (!master)
      continue; // its master's address is unknown: treated as uncovered
    slot_range range{static_cast<uint16_t>(first), static_cast<uint16_t>(last), *master, {}};
    for (size_t i = 3; i < row.elements.size(); ++i)
      if (auto replica = node_of(row.elements[i], asked_host))
        range.replicas.push_back(*replica);
    ranges.push_back(std::move(range));
  }
  return ranges;
}

std::optional<redirect> parse_redirect(std::string_view error, const std::string& asked_host) {
  redirect r;
  if (starts_with(error, "MOVED "))
    error.remove_prefix(6);
  else if (starts_with(error, "ASK "))
    error.remove_prefix(4), r.ask = true;
  else
    return std::nullopt;
  auto space = error.find(' ');
  if (space == std::string_view::npos || space == 0)
    return std::nullopt;
  auto slot = std::strtoul(std::string{error.substr(0, space)}.c_str(), nullptr, 10);
  auto address = error.substr(space + 1);
  auto colon = address.rfind(':');
  if (slot >= cluster_slots || colon == std::string_view::npos)
    return std::nullopt;
  auto port = std::strtoul(std::string{address.substr(colon + 1)}.c_str(), nullptr, 10);
  if (port == 0 || port > 65535)
    return std::nullopt;
  auto host = std::string{address.substr(0, colon)};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  r.slot = static_cast<uint16_t>(slot);
  r.to = redis_endpoint{host.empty() ? asked_host : host, static_cast<uint16_t>(port)};
  return r;
}

bool retry_after_refresh(std::string_view error) {
  return starts_with(error, "TRYAGAIN") || starts_with(error, "CLUSTERDOWN")
         || starts_with(error, "READONLY") || starts_with(error, "UNBLOCKED")
         || starts_with(error, "LOADING") || starts_with(error, "MASTERDOWN");
}

int16_t cluster_map::index_of(const redis_endpoint& ep) {
  auto i = std::find(masters_.begin(), masters_.end(), ep);
  if (i != masters_.end())
    return static_cast<int16_t>(i - masters_.begin());
  masters_.push_back(ep);
  return static_cast<int16_t>(masters_.size() - 1);
}

void cluster_map::replace(const std::vector<slot_range>& ranges) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto before = owner_;
  auto before_masters = masters_;
  std::fill(owner_.begin(), owner_.end(), -1);
  masters_.clear();
  replicas_.clear();
  for (const auto& r : ranges) {
    auto idx = index_of(r.master);
    std::fill(owner_.begin() + r.first, owner_.begin() + r.last + 1, idx);
    for (const auto& rep : r.replicas)
      if (std::find(replicas_.begin(), replicas_.end(), rep) == replicas_.end())
        replicas_.push_back(rep);
  }
  if (owner_ != before || masters_ != before_masters)
    ++version_;
}

void cluster_map::moved(uint16_t slot, const redis_endpoint& to) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto idx = index_of(to);
  if (owner_[slot] != idx) {
    owner_[slot] = idx;
    ++version_;
  }
}

std::optional<redis_endpoint> cluster_map::master_of(uint16_t slot) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto idx = owner_[slot];
  if (idx < 0)
    return std::nullopt;
  return masters_[static_cast<size_t>(idx)];
}

std::vector<redis_endpoint> cluster_map::masters() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<bool> used(masters_.size(), false);
  for (auto idx : owner_)
    if (idx >= 0)
      used[static_cast<size_t>(idx)] = true;
  std::vector<redis_endpoint> result;
  for (size_t i = 0; i < masters_.size(); ++i)
    if (used[i])
      result.push_back(masters_[i]);
  return result;
}

std::vector<redis_endpoint> cluster_map::nodes() const {
  auto result = masters();
  std::lock_guard<std::mutex> guard{mtx_};
  for (const auto& r : replicas_)
    if (std::find(result.begin(), result.end(), r) == result.end())
      result.push_back(r);
  return result;
}

uint64_t cluster_map::version() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return version_;
}

bool cluster_map::empty() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return masters_.empty();
}

} // namespace rill
