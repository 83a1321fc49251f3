#pragma once

// When the reader reads, and how much: its phase (set up the group, re-read
// its own pending entries, read new ones), the cursor through its own pending
// list, the reads in flight and the entries they may return (reserved
// credits), and the pipelining rule. Plain data, no actor inside.

#include <array>
#include <cstdint>
#include <string>

namespace rill::detail {

enum class read_phase : uint8_t { setup, backlog, live };

/// Up to two reads to issue now, by COUNT (0: none).
using read_plan = std::array<uint64_t, 2>;

class read_planner {
public:
  /// `limit`: entries to read in total (0: no limit).
  explicit read_planner(uint64_t limit = 0) : limit_(limit) {}

  read_phase phase() const noexcept { return phase_; }
  void enter(read_phase p) noexcept { phase_ = p; }
  bool live() const noexcept { return phase_ == read_phase::live; }

  /// The reads to issue with `credits` free workers while `busy` workers hold
  /// entries, out of `workers`. New entries (`>`) may be read by two
  /// pipelined reads; a read of the own pending list goes alone (its cursor
  /// moves with each reply).
  read_plan plan(uint64_t credits, uint64_t busy, uint64_t workers) const noexcept;

  /// A read of `count` entries was sent / answered or failed.
  void started(uint64_t count) noexcept {
    ++outstanding_;
    reserved_ += count;
  }
  void settled(uint64_t count) noexcept {
    --outstanding_;
    reserved_ -= count;
  }
  /// Credits held by something that returns entries like a read (a claim).
  void reserve(uint64_t count) noexcept { reserved_ += count; }
  void unreserve(uint64_t count) noexcept { reserved_ -= count; }

  uint32_t outstanding() const noexcept { return outstanding_; }
  uint64_t reserved() const noexcept { return reserved_; }

  /// Entries read (or claimed) so far, for the limit.
  void count(uint64_t entries) noexcept { total_ += entries; }
  uint64_t total() const noexcept { return total_; }
  bool limit_reached() const noexcept { return limit_ > 0 && total_ >= limit_; }

  /// Where the next read of the own pending list starts: after the highest
  /// ID seen (cursors only move forward).
  const std::string& cursor() const noexcept { return cursor_; }
  void advance(const std::string& id);

private:
  read_phase phase_ = read_phase::setup;
  uint64_t limit_;
  uint32_t outstanding_ = 0;
  uint64_t reserved_ = 0;
  uint64_t total_ = 0;
  std::string cursor_ = "0";
};

} // namespace rill::detail
