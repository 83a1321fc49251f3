#include <rill/actors/reader/retry_queue.hpp>

#include <algorithm>

namespace rill::detail {

void retry_queue::schedule(stream_entry entry, steady::time_point due) {
  retries_.push_back(retry_item{due, std::move(entry)});
}

std::vector<retry_item> retry_queue::take_due(steady::time_point now, size_t most) {
  std::vector<retry_item> due;
  for (auto i = retries_.begin(); i != retries_.end() && due.size() < most;) {
    if (i->due <= now) {
      due.push_back(std::move(*i));
      i = retries_.erase(i);
    } else {
      ++i;
    }
  }
  return due;
}

std::optional<steady::duration> retry_queue::arm(steady::time_point now) {
  if (retries_.empty())
    return std::nullopt;
  auto earliest
    = std::min_element(retries_.begin(), retries_.end(),
                       [](const retry_item& x, const retry_item& y) { return x.due < y.due; })
        ->due;
  if (armed_ && armed_at_ <= earliest)
    return std::nullopt;
  armed_ = true;
  armed_at_ = earliest;
  return std::max<steady::duration>(earliest - now, steady::duration{0});
}

std::vector<dead_item> retry_queue::take_dead(size_t most) {
  auto n = std::min(most, dead_.size());
  std::vector<dead_item> out(std::make_move_iterator(dead_.begin()),
                             std::make_move_iterator(dead_.begin() + static_cast<long>(n)));
  dead_.erase(dead_.begin(), dead_.begin() + static_cast<long>(n));
  return out;
}

bool retry_queue::holds(const std::string& id) const {
  return std::any_of(retries_.begin(), retries_.end(),
                     [&](const retry_item& r) { return r.entry.id == id; })
         || std::any_of(dead_.begin(), dead_.end(), [&](const dead_item& d) { return d.id == id; });
}

void retry_queue::append_ids(std::vector<std::string>& out) const {
  for (const auto& r : retries_)
    out.push_back(r.entry.id);
  for (const auto& d : dead_)
    out.push_back(d.id);
}

} // namespace rill::detail
