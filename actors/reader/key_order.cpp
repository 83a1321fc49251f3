#include <rill/actors/reader/key_order.hpp>

#include <algorithm>

namespace rill::detail {

key_order::key_order(std::string field, key_function fn) : key_(std::move(fn)) {
  if (key_)
    name_ = "order_key";
  else if (!field.empty())
    name_ = "consumer.order-by=" + field;
  if (!key_ && !field.empty())
    key_ = [field = std::move(field)](const stream_entry& e) -> std::optional<std::string> {
      if (const auto* value = e.find(field))
        return *value;
      return std::nullopt;
    };
}

std::optional<stream_entry> key_order::admit(stream_entry&& entry, std::optional<std::string> key) {
  if (!key)
    return std::move(entry); // unordered
  auto [it, fresh] = lines_.try_emplace(*key);
  auto& l = it->second;
  if (fresh) {
    l.holder = entry.id;
    of_.emplace(entry.id, std::move(*key));
    return std::move(entry);
  }
  if (l.holder == entry.id)
    return std::move(entry);
  // In ID order: an entry that comes back through a claim or a re-read may be
  // older than ones already waiting.
  auto pos = std::upper_bound(
    l.queue.begin(), l.queue.end(), entry,
    [](const stream_entry& x, const stream_entry& y) { return compare_ids(x.id, y.id) < 0; });
  if (pos != l.queue.begin() && std::prev(pos)->id == entry.id)
    return std::nullopt; // waiting already (read again after a reconnect)
  l.queue.insert(pos, std::move(entry));
  ++waiting_;
  ++waited_;
  resized(l.queue.size() - 1, l.queue.size());
  return std::nullopt;
}

std::optional<stream_entry> key_order::settle(const std::string& id) {
  auto owner = of_.find(id);
  if (owner == of_.end())
    return std::nullopt;
  auto it = lines_.find(owner->second);
  of_.erase(owner);
  if (it == lines_.end())
    return std::nullopt;
  auto& l = it->second;
  if (l.queue.empty()) {
    lines_.erase(it);
    return std::nullopt;
  }
  auto next = std::move(l.queue.front());
  l.queue.pop_front();
  --waiting_;
  resized(l.queue.size() + 1, l.queue.size());
  l.holder = next.id;
  of_.emplace(next.id, it->first);
  return next;
}

void key_order::resized(size_t from, size_t to) {
  if (lengths_.size() <= to)
    lengths_.resize(to + 1);
  if (from > 0)
    --lengths_[from];
  if (to > 0)
    ++lengths_[to];
  if (to > longest_)
    longest_ = to;
  while (longest_ > 0 && lengths_[longest_] == 0)
    --longest_;
}

bool key_order::holds(const std::string& id) const {
  // Only for orphan scans (every orphan-check): a walk over the waiting.
  for (const auto& [key, l] : lines_)
    for (const auto& e : l.queue)
      if (e.id == id)
        return true;
  return false;
}

} // namespace rill::detail
