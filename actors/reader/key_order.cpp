#include <rill/actors/reader/key_order.hpp>

#include <algorithm>

namespace rill::detail {

namespace {

bool id_less(const std::string& x, const std::string& y) {
  return compare_ids(x, y) < 0;
}

} // namespace

key_order::key_order(std::string field, key_function fn, size_t key_queue) :
  key_(std::move(fn)), key_queue_(key_queue) {
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
  if (parked_ids_.count(entry.id) > 0)
    return std::nullopt; // parked already (read again after a reconnect)
  if (!l.parked.empty() && !id_less(entry.id, l.parked.front())) {
    // Newer than what is parked: parked too, so it cannot pass them.
    l.parked.insert(std::upper_bound(l.parked.begin(), l.parked.end(), entry.id, id_less),
                    entry.id);
    parked_ids_.insert(std::move(entry.id));
    ++waited_;
    return std::nullopt;
  }
  auto before = waiting_;
  enqueue(l, std::move(entry));
  if (waiting_ > before)
    ++waited_;
  park_overflow(l);
  return std::nullopt;
}

void key_order::enqueue(line& l, stream_entry&& entry) {
  // In ID order: an entry that comes back through a claim or a re-read may be
  // older than ones already waiting.
  auto pos = std::upper_bound(
    l.queue.begin(), l.queue.end(), entry,
    [](const stream_entry& x, const stream_entry& y) { return id_less(x.id, y.id); });
  if (pos != l.queue.begin() && std::prev(pos)->id == entry.id)
    return; // waiting already (read again after a reconnect)
  l.queue.insert(pos, std::move(entry));
  ++waiting_;
  resized(l.queue.size() - 1, l.queue.size());
}

void key_order::park_overflow(line& l) {
  // The newest go: everything parked stays newer than everything in memory.
  while (key_queue_ > 0 && l.queue.size() > key_queue_) {
    auto id = std::move(l.queue.back().id);
    l.queue.pop_back();
    --waiting_;
    resized(l.queue.size() + 1, l.queue.size());
    parked_ids_.insert(id);
    l.parked.push_front(std::move(id));
  }
}

std::optional<stream_entry> key_order::settle(const std::string& id) {
  auto owner = of_.find(id);
  if (owner == of_.end())
    return std::nullopt;
  auto it = lines_.find(owner->second);
  of_.erase(owner);
  if (it == lines_.end())
    return std::nullopt;
  it->second.holder.clear();
  return next_holder(it);
}

std::optional<stream_entry>
key_order::next_holder(std::unordered_map<std::string, line>::iterator it) {
  auto& l = it->second;
  if (!l.queue.empty()) {
    auto next = std::move(l.queue.front());
    l.queue.pop_front();
    --waiting_;
    resized(l.queue.size() + 1, l.queue.size());
    l.holder = next.id;
    of_.emplace(next.id, it->first);
    // Read parked ones back while half the queue is left, so the key never
    // waits for the round trip.
    if (!l.parked.empty() && l.fetching.empty()
        && l.queue.size() < std::max<size_t>(key_queue_ / 2, 1))
      start_fetch(it->first, l);
    return next;
  }
  if (!l.fetching.empty())
    return std::nullopt; // the fetch's answer picks the holder
  if (!l.parked.empty()) {
    start_fetch(it->first, l);
    return std::nullopt;
  }
  lines_.erase(it);
  return std::nullopt;
}

void key_order::start_fetch(const std::string& key, line& l) {
  auto room = key_queue_ > l.queue.size() ? key_queue_ - l.queue.size() : 0;
  auto n = std::min(l.parked.size(), std::max<size_t>(room, 1));
  l.fetching.assign(std::make_move_iterator(l.parked.begin()),
                    std::make_move_iterator(l.parked.begin() + static_cast<ptrdiff_t>(n)));
  l.parked.erase(l.parked.begin(), l.parked.begin() + static_cast<ptrdiff_t>(n));
  fetches_.push_back(fetch{key, l.fetching});
}

std::vector<key_order::fetch> key_order::take_fetches() {
  return std::exchange(fetches_, {});
}

std::optional<stream_entry> key_order::fetched(const std::string& key,
                                               std::vector<stream_entry> entries) {
  auto it = lines_.find(key);
  if (it == lines_.end())
    return std::nullopt;
  auto& l = it->second;
  for (const auto& id : l.fetching)
    parked_ids_.erase(id);
  l.fetching.clear();
  for (auto& e : entries)
    enqueue(l, std::move(e));
  park_overflow(l);
  if (!l.holder.empty())
    return std::nullopt;
  return next_holder(it);
}

void key_order::fetch_failed(const std::string& key) {
  auto it = lines_.find(key);
  if (it == lines_.end() || it->second.fetching.empty())
    return;
  auto& l = it->second;
  l.parked.insert(l.parked.begin(), l.fetching.begin(), l.fetching.end());
  l.fetching.clear();
  if (l.holder.empty() && l.queue.empty())
    start_fetch(key, l);
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
  if (parked_ids_.count(id) > 0)
    return true;
  // Only for orphan scans (every orphan-check): a walk over the waiting.
  for (const auto& [key, l] : lines_)
    for (const auto& e : l.queue)
      if (e.id == id)
        return true;
  return false;
}

} // namespace rill::detail
