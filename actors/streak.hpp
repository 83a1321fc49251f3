#pragma once

#include <cstdint>

namespace rill {

/// Keeps a repeated warning to one line per streak: the first event of a
/// streak is worth a line (`hit` returns true), later ones are only counted
/// until `close` ends the streak and returns how many there were in all.
/// (384 "worker died" lines for six node kills said nothing the first did.)
class streak {
public:
  /// Counts an event; true if it opens a streak.
  bool hit() noexcept {
    ++count_;
    if (open_)
      return false;
    open_ = true;
    return true;
  }

  bool open() const noexcept { return open_; }

  /// Ends the streak; returns its events, the first included.
  uint64_t close() noexcept {
    auto n = count_;
    count_ = 0;
    open_ = false;
    return n;
  }

private:
  uint64_t count_ = 0;
  bool open_ = false;
};

} // namespace rill
