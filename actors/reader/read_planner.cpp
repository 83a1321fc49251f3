#include <rill/actors/reader/read_planner.hpp>

#include <rill/actors/stream_entry.hpp>

#include <algorithm>

namespace rill::detail {

read_plan read_planner::plan(uint64_t credits, uint64_t busy, uint64_t workers) const noexcept {
  if (phase_ == read_phase::setup)
    return {0, 0};
  auto max_reads = live() ? 2u : 1u;
  if (outstanding_ >= max_reads)
    return {0, 0};
  // A read costs a round trip whatever its COUNT: unless nothing at all is in
  // flight, wait for half the workers to be free rather than fetch entries
  // one by one (credits come back microseconds apart).
  bool quiet = busy == 0 && outstanding_ == 0;
  if (!quiet && credits < std::max<uint64_t>(1, workers / 2))
    return {0, 0};
  if (limit_ > 0)
    credits = std::min(credits, limit_ - std::min(limit_, total_ + reserved_));
  if (credits == 0)
    return {0, 0};
  // Quiet (nothing read, nothing in flight): two reads that split the
  // credits. While the reply to the first travels to us and we replace it,
  // the second is already blocked at Redis, so a new entry does not wait for
  // that round trip. (One read holding every credit would leave the window
  // open after each reply.) Under load, reads stay whole: each costs a round
  // trip.
  if (max_reads == 2 && quiet && credits > 1) {
    auto first = (credits + 1) / 2;
    return {first, credits - first};
  }
  return {credits, 0};
}

void read_planner::advance(const std::string& id) {
  if (compare_ids(id, cursor_) > 0)
    cursor_ = id;
}

} // namespace rill::detail
